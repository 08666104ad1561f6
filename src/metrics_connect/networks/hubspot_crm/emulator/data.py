"""The sandbox portal's CRM records and how they change over the emulator's clock.

Every record (deal, contact, task, call, email, meeting, goal target) is a list of
timed property changes drawn from the seeded spec in data.yaml: a deal is created, moves
through its pipeline's stages (`hs_v2_date_entered_<stage>`), may have its amount edited,
is won or lost (closedate, closed_lost_reason) or stays open, and a few are archived; a
contact is assigned an owner, contacted, merged into an older one (which then lists
`hs_merged_object_ids`) or deleted. `state(object, at)` is what HubSpot holds at `at`:
the records created by then with every change made by then, `hs_lastmodifieddate`
(contacts: `lastmodifieddate`) at their last change, archived ones apart.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect import safe_yaml
from metrics_connect.sandbox.kit.records import RecordBook, TimedRecord, iso_ms, poisson
from metrics_connect.sandbox.kit.seeded import draws

Props = dict[str, Any]
CrmRecord = TimedRecord
OBJECTS = ("deals", "contacts", "tasks", "calls", "emails", "meetings", "goal_targets")
# Each object's id range (HubSpot ids are numbers, unique per object type).
ID_BASE = {name: 10_000_000_000 * (i + 1) for i, name in enumerate(OBJECTS)}
DAY = timedelta(days=1)


def modified_property(object_name: str) -> str:
    """Contacts keep their last change in `lastmodifieddate`, every other object in
    `hs_lastmodifieddate` (what a "modified since" search filters on)."""
    return "lastmodifieddate" if object_name == "contacts" else "hs_lastmodifieddate"


def created_property(object_name: str) -> str:
    return "createdate" if object_name in ("contacts", "deals") else "hs_createdate"


iso = iso_ms  # HubSpot's instants: UTC with milliseconds and a Z


class CrmData(RecordBook):
    """The portal's records, generated once from data.yaml."""

    def __init__(self, spec_path: Path | None = None) -> None:
        path = spec_path or Path(__file__).with_name("data.yaml")
        self.spec: dict[str, Any] = safe_yaml.load(path.read_text(encoding="utf-8"))
        self.account: dict[str, Any] = self.spec["account"]
        self.pipelines: list[dict[str, Any]] = self.spec["pipelines"]
        self.owners: list[dict[str, Any]] = self.spec["owners"]
        self.start = datetime.fromisoformat(self.spec["history_start"])
        self.end = datetime.fromisoformat(self.spec["history_end"])
        super().__init__(OBJECTS)
        self._merges: dict[str, list[tuple[datetime, str]]] = {}
        self._generate()
        self.seal()

    # --- generation ---

    def _new(self, name: str, created: datetime) -> CrmRecord:
        listed = self.records[name]
        record = TimedRecord(
            str(ID_BASE[name] + len(listed) + 1),
            name,
            created,
            created_field=created_property(name),
            modified_field=modified_property(name),
            id_field="hs_object_id",
        )
        listed.append(record)
        return record

    def _generate(self) -> None:
        seed = self.spec["seed"]
        days = (self.end - self.start).days
        for n in range(days):
            day = self.start + n * DAY
            weekday = 1.0 if day.weekday() < 5 else 0.3
            for name, rate in self.spec["per_day"].items():
                rng = draws(seed, name, n)
                for _ in range(poisson(rng.random(), rate * weekday)):
                    created = day + timedelta(seconds=rng.uniform(8 * 3600, 21 * 3600))
                    getattr(self, f"_{name}")(self._new(name, created), rng)
        self._goals()
        contacts = {c.id: c for c in self.records["contacts"]}
        for survivor_id, merges in self._merges.items():
            merged: list[str] = []
            for when, merged_id in sorted(merges):
                merged.append(merged_id)
                contacts[survivor_id].change(when, {"hs_merged_object_ids": ";".join(merged)})

    def _owner(self, rng: Any) -> str:
        return str(rng.choice(self.owners)["id"])

    def _deals(self, deal: CrmRecord, rng: Any) -> None:
        spec, at = self.spec["deals"], deal.created
        shares = [p["share"] for p in self.pipelines]
        pipeline = rng.choices(self.pipelines, weights=shares)[0]
        low, high = spec["amount_brl"]
        home = round(math.exp(rng.uniform(math.log(low), math.log(high))), 2)
        usd = rng.random() < spec["usd_share"]
        rate = self.spec["usd_to_brl"]
        stages = pipeline["stages"]
        open_stages = [s for s in stages if not s.get("closed")]
        won, lost = [s for s in stages if s.get("closed")]
        first = open_stages[0]["id"]
        deal.change(
            at,
            {
                "dealname": f"Deal {deal.id[-5:]}",
                "amount": str(round(home / rate, 2) if usd else home),
                "deal_currency_code": "USD" if usd else self.account["companyCurrency"],
                "amount_in_home_currency": str(home),
                "pipeline": pipeline["id"],
                "dealstage": first,
                "hubspot_owner_id": self._owner(rng),
                "hs_analytics_source": rng.choice(spec["sources"]),
                "closedate": iso(at + timedelta(days=30)),  # expected, until it closes
                "hs_is_closed": "false",
                "hs_is_closed_won": "false",
                f"hs_v2_date_entered_{first}": iso(at),
            },
        )
        index = 0
        while True:
            at += timedelta(days=rng.uniform(*spec["stage_days"]))
            if rng.random() >= spec["advance"]:
                deal.change(
                    at,
                    {
                        "dealstage": lost["id"],
                        f"hs_v2_date_entered_{lost['id']}": iso(at),
                        "closedate": iso(at),
                        "hs_is_closed": "true",
                        "closed_lost_reason": rng.choice(spec["lost_reasons"]),
                    },
                )
                break
            index += 1
            stage = open_stages[index]["id"] if index < len(open_stages) else won["id"]
            delta: Props = {"dealstage": stage, f"hs_v2_date_entered_{stage}": iso(at)}
            if index >= len(open_stages):
                delta |= {"closedate": iso(at), "hs_is_closed": "true", "hs_is_closed_won": "true"}
                deal.change(at, delta)
                break
            deal.change(at, delta)
        if rng.random() < spec["edit_share"]:
            edited_at = deal.created + (at - deal.created) * rng.uniform(0.2, 0.9)
            new_home = round(home * rng.uniform(0.7, 1.3), 2)
            deal.change(
                edited_at,
                {
                    "amount": str(round(new_home / rate, 2) if usd else new_home),
                    "amount_in_home_currency": str(new_home),
                },
            )
        if rng.random() < spec["deleted_share"]:
            deal.archived_at = deal.created + timedelta(days=rng.uniform(2, 60))

    def _contacts(self, contact: CrmRecord, rng: Any) -> None:
        spec, at = self.spec["contacts"], contact.created
        number = contact.id[-6:]
        contact.change(
            at,
            {
                "firstname": f"Contact {number}",
                "lastname": "Sandbox",
                "email": f"contact{number}@customers.example",
                "lifecyclestage": "lead",
                "hs_lead_status": "NEW",
            },
        )
        if rng.random() < spec["assigned_share"]:
            assigned = at + timedelta(days=rng.uniform(0, 3))
            contact.change(
                assigned,
                {
                    "hubspot_owner_id": self._owner(rng),
                    "hubspot_owner_assigneddate": iso(assigned),
                },
            )
            if rng.random() < spec["contacted_share"]:
                contacted = assigned + timedelta(days=rng.uniform(0.1, 6))
                contact.change(
                    contacted,
                    {
                        "notes_last_contacted": iso(contacted),
                        "hs_lead_status": "CONNECTED",
                        "lifecyclestage": "salesqualifiedlead",
                    },
                )
        # A contact merges into an older one that stays (neither merged nor archived).
        older = self.records["contacts"][-400:-1]
        survivors = [c for c in older if c.archived_at is None and c.merged_at is None]
        if survivors and rng.random() < spec["merged_share"]:
            contact.merged_at = at + timedelta(days=rng.uniform(5, 90))
            survivor = survivors[int(rng.random() * len(survivors))]
            self._merges.setdefault(survivor.id, []).append((contact.merged_at, contact.id))
        elif rng.random() < spec["deleted_share"]:
            contact.archived_at = at + timedelta(days=rng.uniform(5, 120))

    def _tasks(self, task: CrmRecord, rng: Any) -> None:
        spec, at = self.spec["tasks"], task.created
        types = spec["types"]
        due = at + timedelta(days=rng.uniform(0, 7))
        task.change(
            at,
            {
                "hs_task_subject": f"Follow up {task.id[-5:]}",
                "hs_task_type": rng.choices(list(types), weights=list(types.values()))[0],
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "MEDIUM",
                "hs_timestamp": iso(due),
                "hubspot_owner_id": self._owner(rng),
            },
        )
        if rng.random() < spec["completed_share"]:
            done = max(at + timedelta(hours=1), due + timedelta(days=rng.uniform(-1, 2)))
            task.change(done, {"hs_task_status": "COMPLETED", "hs_task_completion_date": iso(done)})

    def _calls(self, call: CrmRecord, rng: Any) -> None:
        spec = self.spec["calls"]
        completed = rng.random() < spec["completed_share"]
        seconds = rng.uniform(*spec["duration_seconds"]) if completed else 0.0
        call.change(
            call.created,
            {
                "hs_call_title": f"Call {call.id[-5:]}",
                "hs_timestamp": iso(call.created),
                "hs_call_status": "COMPLETED" if completed else rng.choice(["NO_ANSWER", "BUSY"]),
                "hs_call_direction": "OUTBOUND"
                if rng.random() < spec["outbound_share"]
                else "INBOUND",
                "hs_call_duration": str(int(seconds * 1000)),
                "hubspot_owner_id": self._owner(rng),
            },
        )

    def _emails(self, email: CrmRecord, rng: Any) -> None:
        sent = rng.random() < self.spec["emails"]["sent_share"]
        email.change(
            email.created,
            {
                "hs_email_subject": f"Re: proposal {email.id[-5:]}",
                "hs_timestamp": iso(email.created),
                "hs_email_status": "SENT",
                "hs_email_direction": "EMAIL" if sent else "INCOMING_EMAIL",
                "hubspot_owner_id": self._owner(rng),
            },
        )

    def _meetings(self, meeting: CrmRecord, rng: Any) -> None:
        start = meeting.created + timedelta(days=rng.uniform(1, 14))
        meeting.change(
            meeting.created,
            {
                "hs_meeting_title": f"Demo {meeting.id[-5:]}",
                "hs_meeting_start_time": iso(start),
                "hs_meeting_end_time": iso(start + timedelta(minutes=30)),
                "hs_meeting_outcome": "SCHEDULED",
                "hubspot_owner_id": self._owner(rng),
            },
        )
        held = rng.random() < self.spec["meetings"]["held_share"]
        outcome = "COMPLETED" if held else rng.choice(["NO_SHOW", "CANCELED"])
        meeting.change(start + timedelta(hours=1), {"hs_meeting_outcome": outcome})

    def _goals(self) -> None:
        # Monthly goals start and end at the portal's midnights.
        zone = ZoneInfo(str(self.account["timeZone"]))
        month = self.start.astimezone(zone).replace(day=1, hour=0, minute=0, second=0)
        while month < self.end:
            following = (month + timedelta(days=32)).replace(day=1)
            rng = draws(self.spec["seed"], "goal", month.date().isoformat())
            goal = self._new("goal_targets", month - timedelta(days=5))
            goal.change(
                goal.created,
                {
                    "hs_goal_name": f"Revenue {month:%Y-%m}",
                    "hs_target_amount": str(
                        round(rng.uniform(*self.spec["goals"]["monthly_target_brl"]))
                    ),
                    "hs_start_datetime": iso(month),
                    "hs_end_datetime": iso(following - timedelta(seconds=1)),
                },
            )
            month = following
