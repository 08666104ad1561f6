"""The sandbox PhoneTrack account's calls and how they change over the emulator's clock
(docs/networks/phonetrack.md).

Calls come in during each unit's opening hours, more on weekdays and more as the history
goes on. A call's log entry has the fields of PhoneTrack's call log (its hangup webhook's
`logentry`): the unit (`client_*`), the tracking's campaign, ad group and advert, the
instants in the account's zone, `duration`, `failed`, `first_call_consumer`, the caller's
number and `call_metadata` (`is_incomplete`, `plead`). After the call, an answered one
may be classified as an opportunity (`plead`), a lost one returned by the unit
(`returned`, `date_returned_tz`), a few are deleted (`deleted_at`). `calls_between` is
what the call log lists for a span of start instants at an instant.
"""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect import safe_yaml
from metrics_connect.sandbox.kit.records import RecordBook, TimedRecord, poisson
from metrics_connect.sandbox.kit.seeded import draws

DAY = timedelta(days=1)
LONGEST_CALL = timedelta(hours=2)  # a listing by start finds calls ending this much later


class PhoneTrackData(RecordBook):
    def __init__(self, spec_path: Path | None = None) -> None:
        path = spec_path or Path(__file__).with_name("data.yaml")
        self.spec: dict[str, Any] = safe_yaml.load(path.read_text(encoding="utf-8"))
        self.account: dict[str, Any] = self.spec["account"]
        self.zone = ZoneInfo(self.account["timezone"])
        self.units: list[dict[str, Any]] = self.spec["units"]
        self.campaigns: list[dict[str, Any]] = self.spec["campaigns"]
        self.start = datetime.fromisoformat(self.spec["history_start"])
        self.end = datetime.fromisoformat(self.spec["history_end"])
        self.starts: dict[str, datetime] = {}
        super().__init__(("calls",))
        self._generate()
        self.seal()
        self._ends = [r.created for r in self.records["calls"]]

    def local(self, at: datetime) -> dict[str, Any]:
        """PhoneTrack's date object: the wall time in the account's zone, and the zone."""
        wall = at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S.%f")
        return {"date": wall, "timezone": self.account["timezone"], "timezone_type": 3}

    def _generate(self) -> None:
        spec = self.spec
        callers: list[str] = []
        for n in range((self.end - self.start).days):
            day = self.start + n * DAY
            weekday = day.astimezone(self.zone).weekday() < 5
            mean = spec["calls_per_day"] * (1 + spec["growth_per_year"]) ** (n / 365)
            rng = draws(spec["seed"], "calls", n)
            arrivals = []
            for _ in range(poisson(rng.random(), mean * (1.0 if weekday else 0.45))):
                unit = rng.choices(self.units, weights=[u["share"] for u in self.units])[0]
                opens, closes = unit["open_hours"]
                at = (day + timedelta(hours=rng.uniform(opens, closes))).replace(microsecond=0)
                arrivals.append((at, unit, rng.random()))
            for at, unit, salt in sorted(arrivals, key=lambda a: a[0]):
                self._call(draws(spec["seed"], "call", at.isoformat(), salt), at, unit, callers)

    def _call(self, rng: Any, at: datetime, unit: dict[str, Any], callers: list[str]) -> None:
        spec = self.spec
        campaign = rng.choices(self.campaigns, weights=[c["share"] for c in self.campaigns])[0]
        adgroup = rng.choice(campaign["adgroups"])
        advert = rng.choice(adgroup["adverts"])
        if callers and rng.random() < spec["repeat_caller"]:
            caller, first = rng.choice(callers[-spec["recent_callers"] :]), 0
        else:
            caller, first = f"55{rng.choice([11, 19, 21, 31])}9{rng.randrange(10**8):08d}", 1
            callers.append(caller)
        answered = rng.random() < spec["answered"]
        incomplete = not answered and rng.random() < spec["incomplete_of_lost"]
        wait = round(rng.uniform(3, 25))
        if answered:
            talk = spec["talk_seconds"]
            seconds = wait + rng.lognormvariate(math.log(talk["median"]), talk["sigma"])
        else:
            seconds = rng.uniform(*spec["ring_seconds"])
        seconds = round(min(seconds, 5400))
        end = at + timedelta(seconds=seconds)
        record = TimedRecord(
            str(70_880_000 + len(self.records["calls"])),
            "calls",
            end,  # in the call log once it has ended
            created_field="created_at",
            modified_field="updated_at",
        )
        self.records["calls"].append(record)
        self.starts[record.id] = at
        metadata = {
            "call_duration": f"{seconds:.3f}",
            "is_incomplete": incomplete,
            "plead": False,
            "wait_time_sec": wait if answered else seconds,
            "rings_count": max(1, round(wait / 5)),
        }
        hangup = (
            "normal_clearing" if answered else "originator_cancel" if incomplete else "no_answer"
        )
        record.change(
            end,
            {
                "call_id": f"{int(at.timestamp())}.{rng.randrange(10000)}",
                "account_id": self.account["id"],
                "client_id": unit["id"],
                "client_name": unit["name"],
                "campaign_id": campaign["id"],
                "campaign_name": campaign["name"],
                "adgroup_id": adgroup["id"],
                "adgroup_name": adgroup["name"],
                "advert_id": advert["id"],
                "advert_name": advert["name"],
                "date_start_tz": self.local(at),
                "date_answer_tz": self.local(at + timedelta(seconds=wait)) if answered else None,
                "date_end_tz": self.local(end),
                "duration": seconds,
                "bill_duration": 60 * math.ceil(seconds / 60),
                "failed": 0 if answered else 1,
                "status": "completed",
                "hangup_cause": hangup,
                "first_call_consumer": first,
                "origin_number": caller,
                "origin_formatted": f"({caller[2:4]}) {caller[4:9]}-{caller[9:]}",
                "type_call": "I",
                "call_metadata": metadata,
                "returned": 0,
                "date_returned_tz": None,
            },
        )
        if answered and rng.random() < spec["opportunity_of_answered"]:
            classified = end + timedelta(minutes=rng.uniform(*spec["classified_minutes"]))
            record.change(classified, {"call_metadata": {**metadata, "plead": True}})
        if not answered and rng.random() < spec["returned_of_lost"]:
            back = end + timedelta(hours=rng.uniform(*spec["returned_hours"]))
            record.change(back, {"returned": 1, "date_returned_tz": self.local(back)})
        if rng.random() < spec["deleted"]:
            record.archived_at = end + rng.uniform(*spec["deleted_days"]) * DAY

    def calls_between(self, first: datetime, last: datetime, at: datetime) -> list[Any]:
        """Every call started in [first, last] that the log holds at `at` (deleted ones
        with their `deleted_at`), by start."""
        calls = self.records["calls"]
        low = bisect.bisect_left(self._ends, first)
        high = bisect.bisect_right(self._ends, min(at, last + LONGEST_CALL))
        found = []
        for record in calls[low:high]:
            start = self.starts[record.id]
            fields = record.state(at) if first <= start <= last else None
            if fields is not None:
                gone = record.archived_at if record.archived(at) else None
                deleted = self.local(gone)["date"][:19] if gone is not None else ""
                found.append((start, {**fields, "id": int(record.id), "deleted_at": deleted}))
        return [fields for _, fields in sorted(found, key=lambda pair: pair[0])]

    def history(self, at: datetime) -> list[tuple[TimedRecord, dict[str, Any]]]:
        """Every call held at `at` with its fields (deleted ones included): the tests' truth."""
        return self.state("calls", at)
