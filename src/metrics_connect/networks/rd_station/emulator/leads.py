"""The sandbox RD Station Marketing leads base, drawn once from the seeded spec in
data.yaml (`leads`, `segmentations`): each contact with its creation instant, its
conversion events (the first one creates it), an optional removal from the base, and
its "now" attributes (tags, lifecycle stage, fit and interest scores). At an instant, the
base holds the contacts created and not yet removed, each with the conversions made by
then: what the segmentation listing and the contact endpoints show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect.sandbox.kit.records import poisson
from metrics_connect.sandbox.kit.seeded import draws

ZONE = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True)
class Conversion:
    at: datetime
    identifier: str
    source: str


@dataclass(frozen=True)
class Lead:
    uuid: str
    name: str
    email: str
    created_at: datetime
    removed_at: datetime | None
    conversions: tuple[Conversion, ...]  # oldest first; the first made the contact
    tags: tuple[str, ...]
    lifecycle_stage: str
    opportunity: bool
    fit: int
    interest: int

    def live(self, now: datetime) -> bool:
        return self.created_at <= now and (self.removed_at is None or self.removed_at > now)

    def conversions_by(self, now: datetime) -> list[Conversion]:
        return [c for c in self.conversions if c.at <= now]


def iso(instant: datetime) -> str:
    """RD Station's instants: milliseconds and the account's offset."""
    return instant.astimezone(ZONE).isoformat(timespec="milliseconds")


def _weighted(rng: Any, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class LeadBase:
    def __init__(self, spec: dict[str, Any], seed: int) -> None:
        self.spec = spec["leads"]
        self.segmentations: list[dict[str, Any]] = spec["segmentations"]
        self.seed = seed
        self.leads: list[Lead] = []
        day = date.fromisoformat(self.spec["first_created"])
        until = date.fromisoformat(self.spec["until"])
        while day <= until:
            rng = draws(seed, "leads", day.isoformat())
            mean = self.spec["per_weekday"] * (1.0 if day.weekday() < 5 else 0.4)
            for n in range(poisson(rng.random(), mean)):
                self.leads.append(self._lead(day, n))
            day += timedelta(days=1)
        self.by_key = {k: lead for lead in self.leads for k in (lead.uuid, f"email:{lead.email}")}

    def _lead(self, day: date, n: int) -> Lead:
        s, rng = self.spec, draws(self.seed, "lead", day.isoformat(), n)
        local = datetime(day.year, day.month, day.day, 8, tzinfo=ZONE)
        created = (local + timedelta(minutes=rng.randint(0, 14 * 60))).astimezone(UTC)
        first, last = rng.choice(s["first_names"]), rng.choice(s["last_names"])
        instants = [created]
        for _ in range(poisson(rng.random(), s["conversions"])):
            gap = rng.expovariate(1 / s["conversion_gap_days"])
            instants.append(instants[-1] + timedelta(days=gap, minutes=rng.randint(1, 600)))
        conversions = tuple(
            Conversion(at, rng.choice(s["identifiers"]), _weighted(rng, s["sources"]))
            for at in instants
        )
        gone = rng.random() < s["deleted_share"]
        removed = created + timedelta(days=rng.uniform(5, 120)) if gone else None
        draw, client = rng.random(), s["client_share"]
        stage = "Client" if draw < client else "Lead"
        stage = "Qualified Lead" if client <= draw < client + s["qualified_share"] else stage
        low, high = s["tags_per_contact"]
        return Lead(
            uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            name=f"{first} {last}",
            email=f"{first}.{last}.{day:%y%m%d}{n}@example.com".lower(),
            created_at=created,
            removed_at=removed,
            conversions=conversions,
            tags=tuple(sorted(rng.sample(s["tags"], rng.randint(low, high)))),
            lifecycle_stage=stage,
            opportunity=stage != "Lead" and rng.random() < 0.4,
            fit=int(_weighted(rng, s["fit"])),
            interest=int(_weighted(rng, s["interest"])),
        )

    def members(self, segmentation: dict[str, Any], now: datetime) -> list[Lead]:
        """The segmentation's contacts at `now`, oldest first (a stable order for paging:
        new contacts join at the end)."""
        stage, tag = segmentation.get("stage"), segmentation.get("tag")
        return [
            lead
            for lead in self.leads
            if lead.live(now)
            and (stage is None or lead.lifecycle_stage == stage)
            and (tag is None or tag in lead.tags)
        ]

    def find(self, key: str, now: datetime) -> Lead | None:
        """A contact by uuid or `email:<address>`, if it is in the base at `now`."""
        lead = self.by_key.get(key)
        return lead if lead is not None and lead.live(now) else None
