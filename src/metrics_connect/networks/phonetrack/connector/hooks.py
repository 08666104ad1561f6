"""PhoneTrack (API v3) on the kit: the account's call log as a records dataset
(docs/networks/phonetrack.md). What no spec says:

- the log filters by start time only: a sync walks start-time windows of `window_days`
  (page by page) from `kept_days` ago on the first run, then from `restated_days` before
  the last walk's end, since a call still changes for days after it ends (classified as
  an opportunity, returned, deleted: listed with its `deleted_at`);
- the cursor is JSON: the walk's next window, its end and page, or the day it synced to;
- an entry's instants are wall times with their zone (`date_start_tz`); the caller's
  number is kept only as a hash keyed by the account (unique callers, no phone numbers).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect.connectors.base import AccountInfo, PlannedCall, RecordPage, RecordRow
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import streams_of

API = "api/v3"
ZONE = "America/Sao_Paulo"
DAY = timedelta(days=1)


def instant(value: Any) -> str | None:
    """PhoneTrack's `{"date": "Y-m-d H:i:s.u", "timezone": ...}` as an ISO 8601 instant."""
    if not isinstance(value, dict) or not value.get("date"):
        return None
    try:
        wall = datetime.strptime(str(value["date"])[:19], "%Y-%m-%d %H:%M:%S")
        return wall.replace(tzinfo=ZoneInfo(str(value.get("timezone") or ZONE))).isoformat()
    except (KeyError, ValueError):
        return None


def _flag(value: Any) -> bool:
    return value in (1, True, "1", "true")


class PhoneTrackConnector(KitConnector):
    slug = "phonetrack"
    streams = streams_of(__file__)
    client_class = JsonRestClient

    @property
    def path(self) -> str:
        return f"{API}/accounts/{self.ctx.external_id}/call-logs"

    async def account_info(self) -> AccountInfo:
        body = await self.client.get(f"{API}/accounts/{self.ctx.external_id}", {})
        row = (body.get("row") if isinstance(body, dict) else None) or {}
        return AccountInfo(
            name=str(row.get("name") or f"PhoneTrack {self.ctx.external_id}"),
            timezone=str(row.get("timezone") or ZONE),
        )

    def _walk(self, cursor: str | None) -> dict[str, Any]:
        """Where this step lists: the walk under way, or a new one up to today."""
        state = json.loads(cursor) if cursor else {}
        if "next" in state:
            return dict(state)
        extra, today = self.streams.extra, self.today()
        oldest = today - (int(extra["kept_days"]) - 1) * DAY
        synced, full = state.get("synced"), state.get("full")
        # Now and then the whole log again: what changed after its restated days.
        due = not full or (today - date.fromisoformat(full)).days >= int(extra["full_every_days"])
        restated = int(extra["restated_days"]) * DAY
        first = oldest if due or not synced else max(oldest, date.fromisoformat(synced) - restated)
        walk = {"next": first.isoformat(), "until": today.isoformat(), "page": 1}
        return {**walk, "full": today.isoformat() if due else full}

    def _window(self, state: dict[str, Any]) -> tuple[date, date]:
        first, until = date.fromisoformat(state["next"]), date.fromisoformat(state["until"])
        return first, min(first + (int(self.streams.extra["window_days"]) - 1) * DAY, until)

    def _params(self, state: dict[str, Any]) -> dict[str, str]:
        first, last = self._window(state)
        return {
            "date_start": f"{first.isoformat()} 00:00:00",
            "date_end": f"{last.isoformat()} 23:59:59",
            "page": str(state["page"]),
            "limit": str(self.streams.extra["page_size"]),
        }

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        """The walk's first page of each window (further pages depend on the calls)."""
        state, calls = self._walk(cursor), []
        while True:
            calls.append(PlannedCall("GET", self.path, self._params(state), estimated=True))
            last = self._window(state)[1]
            if last >= date.fromisoformat(state["until"]):
                return calls
            state = {**state, "next": (last + DAY).isoformat(), "page": 1}

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state = self._walk(cursor)
        body = await self.client.get(self.path, self._params(state))
        rows = [r for r in (body.get("rows") or []) if isinstance(r, dict)]
        live = [self._call(r) for r in rows if not r.get("deleted_at")]
        deleted = [str(r["id"]) for r in rows if r.get("deleted_at")]
        if state["page"] < int(body.get("last_page") or 1):
            step = {**state, "page": state["page"] + 1}
            return RecordPage(live, deleted, json.dumps(step), more=True)
        last = self._window(state)[1]
        if last < date.fromisoformat(state["until"]):
            step = {**state, "next": (last + DAY).isoformat(), "page": 1}
            return RecordPage(live, deleted, json.dumps(step), more=True)
        done = {"synced": state["until"], "full": state["full"]}
        return RecordPage(live, deleted, json.dumps(done), more=False)

    def _caller(self, number: Any) -> str | None:
        digits = "".join(ch for ch in str(number or "") if ch.isdigit())
        if not digits:
            return None
        key = f"{self.ctx.external_id}:{digits}".encode()
        return hashlib.sha256(key).hexdigest()[:32]

    def _call(self, entry: dict[str, Any]) -> RecordRow:
        metadata = entry.get("call_metadata") or {}
        answered = not _flag(entry.get("failed"))
        first = _flag(entry.get("first_call_consumer"))
        fields = {
            "started_at": instant(entry.get("date_start_tz")),
            "returned_at": instant(entry.get("date_returned_tz")),
            "unit": str(entry.get("client_id") or ""),
            "unit_name": entry.get("client_name"),
            "campaign": str(entry.get("campaign_id") or ""),
            "campaign_name": entry.get("campaign_name"),
            "adgroup": str(entry.get("adgroup_id") or ""),
            "adgroup_name": entry.get("adgroup_name"),
            "advert": str(entry.get("advert_id") or ""),
            "advert_name": entry.get("advert_name"),
            "answered": answered,
            "lost": not answered,
            "incomplete": _flag(metadata.get("is_incomplete")),
            "opportunity": _flag(metadata.get("plead")),
            "returned": _flag(entry.get("returned")),
            "first_call": first,
            "caller_kind": "first" if first else "repeat",
            "caller": self._caller(entry.get("origin_number")),
            "duration": float(entry.get("duration") or 0),
        }
        return RecordRow(str(entry["id"]), fields)
