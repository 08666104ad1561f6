"""The sandbox E-goi account and how it changes over the emulator's clock
(docs/networks/egoi.md).

Contacts subscribe to a list every day (`base.created`); some unsubscribe later (their
`status` becomes `inactive` at `base.updated`). The account sends e-mail, SMS and web
push campaigns to a list's active contacts on fixed weekdays; a campaign's report figures
are drawn once, seeded, and grow towards them over the hours after sending. Automations
are created every few weeks, some later set inactive. E-goi writes its instants as
`YYYY-MM-DD HH:MM:SS` in the account's time zone (Lisbon here).
"""

from __future__ import annotations

import bisect
import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect import safe_yaml
from metrics_connect.sandbox.kit.records import RecordBook, TimedRecord, poisson
from metrics_connect.sandbox.kit.seeded import draws

DAY = timedelta(days=1)
CHANNELS = ("email", "sms", "web_push")


@dataclass
class Campaign:
    hash: str
    channel: str
    list_id: int
    title: str
    sent: datetime  # start_date
    audience: int  # the list's active contacts when sent
    figures: dict[str, int] = field(default_factory=dict)  # the report's final figures


class EgoiData(RecordBook):
    def __init__(self, spec_path: Path | None = None) -> None:
        path = spec_path or Path(__file__).with_name("data.yaml")
        self.spec: dict[str, Any] = safe_yaml.load(path.read_text(encoding="utf-8"))
        self.account: dict[str, Any] = self.spec["account"]
        self.zone = ZoneInfo(self.account["timezone"])
        self.lists: list[dict[str, Any]] = self.spec["lists"]
        self.start = datetime.fromisoformat(self.spec["history_start"])
        self.end = datetime.fromisoformat(self.spec["history_end"])
        self.campaigns: list[Campaign] = []
        self._joins: dict[int, list[datetime]] = {x["list_id"]: [] for x in self.lists}
        self._leaves: dict[int, list[datetime]] = {x["list_id"]: [] for x in self.lists}
        super().__init__(("contacts", "automations"))
        self._contacts()
        self.seal()
        self._campaigns()
        self._automations()
        self.seal()

    def local(self, at: datetime) -> str:
        """An instant as E-goi writes it: the account's local time, no offset."""
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def _record(self, name: str, ident: str, created: datetime) -> TimedRecord:
        record = TimedRecord(ident, name, created, "created_at", "updated_at")
        self.records[name].append(record)
        return record

    def _contacts(self) -> None:
        spec = self.spec["contacts"]
        for n in range((self.end - self.start).days):
            day = self.start + n * DAY
            for listed in self.lists:
                rng = draws(self.spec["seed"], "contacts", listed["list_id"], n)
                weekday = 1.0 if day.weekday() < 5 else 0.6
                for _ in range(poisson(rng.random(), listed["joins"] * weekday)):
                    created = day + timedelta(seconds=rng.uniform(7 * 3600, 23 * 3600))
                    number = len(self.records["contacts"]) + 1
                    contact = self._record("contacts", f"{number:010x}", created)
                    contact.change(
                        created,
                        {"list_id": listed["list_id"], "status": "active",
                         "email": f"cliente{number}@example.com",
                         "first_name": f"Cliente {number}"},
                    )  # fmt: skip
                    self._joins[listed["list_id"]].append(created)
                    if rng.random() < spec["unsubscribe_share"]:
                        later = created + rng.uniform(*spec["unsubscribe_days"]) * DAY
                        contact.change(later, {"status": "inactive"})
                        self._leaves[listed["list_id"]].append(later)
        for times in (*self._joins.values(), *self._leaves.values()):
            times.sort()

    def active(self, list_id: int, at: datetime) -> int:
        """The list's active contacts at `at` (subscribed by then, not unsubscribed)."""
        joined = bisect.bisect_right(self._joins[list_id], at)
        return joined - bisect.bisect_right(self._leaves[list_id], at)

    def _campaigns(self) -> None:
        counts: dict[tuple[int, str], int] = {}
        for n in range((self.end - self.start).days):
            day = self.start + n * DAY
            for channel in CHANNELS:
                spec = self.spec["campaigns"][channel]
                if day.weekday() not in spec["weekdays"]:
                    continue
                for listed in self.lists:
                    rng = draws(self.spec["seed"], "campaign", channel, listed["list_id"], n)
                    sent = day + timedelta(hours=rng.uniform(9, 11))
                    key = (listed["list_id"], channel)
                    counts[key] = counts.get(key, 0) + 1
                    digest = hashlib.sha1(f"{key}{n}".encode()).hexdigest()[:16]
                    audience = self.active(listed["list_id"], sent)
                    campaign = Campaign(
                        digest, channel, listed["list_id"],
                        f"{rng.choice(spec['subjects'])} #{counts[key]}", sent, audience,
                    )  # fmt: skip
                    campaign.figures = getattr(self, f"_{channel}")(audience, rng)
                    self.campaigns.append(campaign)
        self.campaigns.sort(key=lambda c: c.sent)
        self.by_hash = {c.hash: c for c in self.campaigns}

    def _email(self, audience: int, rng: Any) -> dict[str, int]:
        spec = self.spec["email"]

        def share(name: str, of: int) -> int:
            return round(of * rng.uniform(*spec[name]))

        hard, soft = share("hard_bounce", audience), share("soft_bounce", audience)
        delivered = audience - hard - soft
        unique_opens = share("unique_open", delivered)
        unique_clicks = share("unique_click", unique_opens)
        return {
            "sends": audience,
            "hard_bounces": hard,
            "soft_bounces": soft,
            "unique_opens": unique_opens,
            "opens": share("opens_per_opener", unique_opens),
            "unique_clicks": unique_clicks,
            "clicks": share("clicks_per_clicker", unique_clicks),
            "complaints": share("complaint", delivered),
            "unsubscriptions": share("unsubscription", delivered),
        }

    def _sms(self, audience: int, rng: Any) -> dict[str, int]:
        spec = self.spec["sms"]
        destinations = round(audience * rng.uniform(*spec["destination_share"]))
        sends = round(destinations * rng.uniform(*spec["sent"]))
        delivered = round(sends * rng.uniform(*spec["delivered"]))
        invalid = (destinations - sends) // 2
        return {
            "destinations": destinations,
            "sends": sends,
            "delivered": delivered,
            "error": sends - delivered,
            "invalid": invalid,
            "pending": destinations - sends - invalid,
        }

    def _web_push(self, audience: int, rng: Any) -> dict[str, int]:
        spec = self.spec["web_push"]
        sends = round(audience * rng.uniform(*spec["subscriber_share"]))
        bounces = round(sends * rng.uniform(*spec["bounce"]))
        opens = round((sends - bounces) * rng.uniform(*spec["open"]))
        clicks = round(opens * rng.uniform(*spec["click_of_open"]))
        return {"sends": sends, "bounces": bounces, "opens": opens, "clicks": clicks}

    def report(self, campaign: Campaign, at: datetime) -> dict[str, int]:
        """The figures at `at`: sends and bounces at once, the rest growing after."""
        hours = max(0.0, (at - campaign.sent).total_seconds() / 3600)
        grown = 1 - math.exp(-hours / float(self.spec["email"]["growth_hours"]))
        instant = {"sends", "hard_bounces", "soft_bounces", "bounces", "destinations"}
        return {
            k: v if k in instant or campaign.channel == "sms" else math.floor(v * grown)
            for k, v in campaign.figures.items()
        }

    def sent_by(self, at: datetime) -> list[Campaign]:
        return [c for c in self.campaigns if c.sent <= at]

    def _automations(self) -> None:
        spec = self.spec["automations"]
        at, number = self.start + DAY, 0
        while at < self.end:
            number += 1
            rng = draws(self.spec["seed"], "automation", number)
            created = at + timedelta(hours=rng.uniform(9, 18))
            automation = self._record("automations", str(number), created)
            listed = rng.choice(self.lists)
            automation.change(
                created,
                {"title": f"{rng.choice(spec['titles'])} {number}",
                 "list_id": listed["list_id"], "status": "active"},
            )  # fmt: skip
            if rng.random() < spec["inactive_share"]:
                automation.change(created + rng.uniform(3, 60) * DAY, {"status": "inactive"})
            at += spec["every_days"] * DAY


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
