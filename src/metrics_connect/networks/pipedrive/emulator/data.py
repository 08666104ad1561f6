"""The sandbox Pipedrive company's deals, leads and activities and how they change over
the emulator's clock (docs/networks/pipedrive.md).

A deal is added in its pipeline's first stage, moves on stage by stage
(`stage_change_time`), is won (`won_time`) or lost with a reason (`lost_time`), both
setting `close_time`, or stays open; some have their value edited, a few are deleted
(`status: deleted`, listed as such for 30 days). A lead is added, some archived, a few
deleted. An activity is due on `due_date`, some marked done (`marked_as_done_time`), a
few deleted. A mail thread arrives in the token user's inbox (`first_message_timestamp`),
some get a reply later, a few are deleted. `live(object, at)` is what Pipedrive lists at `at`.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from metrics_connect import safe_yaml
from metrics_connect.sandbox.kit.records import RecordBook, TimedRecord, iso_ms, poisson
from metrics_connect.sandbox.kit.seeded import draws

OBJECTS = ("deals", "leads", "activities", "mail_threads")
FIRST_ID = {"deals": 5001, "leads": 0, "activities": 90001, "mail_threads": 700001}
DAY = timedelta(days=1)


def pd_time(at: datetime) -> str:
    """Pipedrive's RFC 3339 instants, in UTC without fractions."""
    return iso_ms(at)[:19] + "Z"


class PipedriveData(RecordBook):
    def __init__(self, spec_path: Path | None = None) -> None:
        path = spec_path or Path(__file__).with_name("data.yaml")
        self.spec: dict[str, Any] = safe_yaml.load(path.read_text(encoding="utf-8"))
        self.company: dict[str, Any] = self.spec["company"]
        self.users: list[dict[str, Any]] = self.spec["users"]
        self.pipelines: list[dict[str, Any]] = self.spec["pipelines"]
        self.start = datetime.fromisoformat(self.spec["history_start"])
        self.end = datetime.fromisoformat(self.spec["history_end"])
        super().__init__(OBJECTS)
        self._generate()
        self.seal()

    def _new(self, name: str, created: datetime, rng: Any) -> TimedRecord:
        listed = self.records[name]
        if name == "leads":  # lead ids are UUIDs
            record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        else:
            record_id = str(FIRST_ID[name] + len(listed))
        record = TimedRecord(
            record_id, name, created, created_field="add_time", modified_field="update_time"
        )
        listed.append(record)
        return record

    def _generate(self) -> None:
        for n in range((self.end - self.start).days):
            day = self.start + n * DAY
            weekday = 1.0 if day.weekday() < 5 else 0.3
            for name, rate in self.spec["per_day"].items():
                rng = draws(self.spec["seed"], name, n)
                for _ in range(poisson(rng.random(), rate * weekday)):
                    created = day + timedelta(seconds=rng.uniform(12 * 3600, 23 * 3600))
                    getattr(self, f"_{name}")(self._new(name, created, rng), rng)

    def _deals(self, deal: TimedRecord, rng: Any) -> None:
        spec, at = self.spec["deals"], deal.created
        pipeline = rng.choices(self.pipelines, weights=[p["share"] for p in self.pipelines])[0]
        stages = pipeline["stages"]
        low, high = spec["value"]
        value = round(math.exp(rng.uniform(math.log(low), math.log(high))), 2)
        deal.change(
            at,
            {
                "title": f"Deal {deal.id}",
                "owner_id": rng.choice(self.users)["id"],
                "pipeline_id": pipeline["id"],
                "stage_id": stages[0]["id"],
                "value": value,
                "currency": self.company["currency"],
                "status": "open",
                "stage_change_time": None,
                "close_time": None,
                "won_time": None,
                "lost_time": None,
                "lost_reason": None,
                "is_deleted": False,
                "probability": None,
            },
        )
        if rng.random() < spec["edit_share"]:
            edited = round(value * rng.uniform(0.7, 1.4), 2)
            deal.change(at + rng.uniform(0.2, 20) * DAY, {"value": edited})
        if rng.random() < spec["deleted_share"]:
            deleted = deal.archived_at = at + rng.uniform(1, 30) * DAY
            deal.change(deleted, {"status": "deleted", "is_deleted": True})
        stays_open = rng.random() < spec["stays_open"]
        index = 0
        while True:
            at += rng.uniform(*spec["stage_days"]) * DAY
            last = index == len(stages) - 1
            if deal.archived_at is not None and at >= deal.archived_at:
                return
            if stays_open and (last or rng.random() < 0.4):
                return
            if not last and rng.random() < spec["advance"]:
                index += 1
                deal.change(at, {"stage_id": stages[index]["id"], "stage_change_time": pd_time(at)})
                continue
            won = last and rng.random() < spec["win_at_last"]
            closed = {"status": "won" if won else "lost", "close_time": pd_time(at)}
            if won:
                closed["won_time"] = pd_time(at)
            else:
                closed["lost_time"] = pd_time(at)
                closed["lost_reason"] = rng.choice(self.spec["lost_reasons"])
            deal.change(at, closed)
            return

    def _leads(self, lead: TimedRecord, rng: Any) -> None:
        spec = self.spec["leads"]
        lead.change(
            lead.created,
            {
                "title": f"Lead {lead.id[:8]}",
                "owner_id": rng.choice(self.users)["id"],
                "is_archived": False,
                "source_name": rng.choice(["Manually created", "Web forms", "Chatbot"]),
            },
        )
        if rng.random() < spec["archived_share"]:
            lead.change(lead.created + rng.uniform(1, 40) * DAY, {"is_archived": True})
        if rng.random() < spec["deleted_share"]:
            lead.archived_at = lead.created + rng.uniform(1, 30) * DAY

    def _activities(self, activity: TimedRecord, rng: Any) -> None:
        spec = self.spec["activities"]
        kinds = list(spec["types"])
        kind = rng.choices(kinds, weights=[spec["types"][k] for k in kinds])[0]
        due = activity.created + rng.randint(*spec["due_days"]) * DAY
        activity.change(
            activity.created,
            {
                "subject": f"{kind.capitalize()} {activity.id}",
                "type": kind,
                "owner_id": rng.choice(self.users)["id"],
                "due_date": due.date().isoformat(),
                "due_time": due.strftime("%H:%M"),
                "done": False,
                "marked_as_done_time": None,
                "is_deleted": False,
            },
        )
        if rng.random() < spec["done_share"]:
            done = max(due + timedelta(hours=rng.uniform(-6, 30)), activity.created)
            done += timedelta(minutes=5)
            activity.change(done, {"done": True, "marked_as_done_time": pd_time(done)})
        if rng.random() < spec["deleted_share"]:
            deleted = activity.archived_at = activity.created + rng.uniform(1, 20) * DAY
            activity.change(deleted, {"is_deleted": True})

    def _mail_threads(self, thread: TimedRecord, rng: Any) -> None:
        spec = self.spec["mail_threads"]
        received = thread.created.strftime("%Y-%m-%d %H:%M:%S")  # v1's UTC instants
        thread.change(
            thread.created,
            {
                "subject": f"Re: proposal {thread.id}",
                "user_id": self.users[0]["id"],
                "folders": ["inbox"],
                "message_count": 1,
                "first_message_timestamp": received,
                "last_message_timestamp": received,
                "deleted_flag": 0,
            },
        )
        if rng.random() < spec["replied_share"]:
            at = thread.created + rng.uniform(0.1, 5) * DAY
            stamp = at.strftime("%Y-%m-%d %H:%M:%S")
            thread.change(at, {"message_count": 2, "last_message_timestamp": stamp})
        if rng.random() < spec["deleted_share"]:
            thread.archived_at = thread.created + rng.uniform(1, 20) * DAY
