"""E-goi (Marketing API v3) on the kit: contacts, sent campaigns with their reports and
automations as records datasets, the lists' sizes as a daily snapshot
(docs/networks/egoi.md). What no spec says:

- instants come as `YYYY-MM-DD HH:MM:SS` in the account's time zone: read in the
  integration's zone, stored with their offset;
- contacts are listed per list with no "modified since" filter: every sync walks every
  list's contacts (`listed_all` when it started at the first list's first page), a record
  per (list, contact); an inactive contact's unsubscription is its last change;
- a campaign's report keeps growing after sending: each sync re-reads the reports of the
  campaigns sent within `refresh_days` of its start and of those not read since they
  were that old; older ones keep their stored figures (so no `listed_all`: a deleted old
  campaign stays counted);
- a list's name is denormalized onto every record (`/lists`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    PlannedCall,
    RecordPage,
    RecordRow,
    Row,
)
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import streams_of

REPORT_PATH = {"email": "email", "sms": "sms", "web_push": "web-push"}
# Only the overall figures: the reports' breakdowns (by day, hour, domain, link, reader,
# SMS network) are left out of the answer.
REPORT_PARAMS = {
    "email": dict.fromkeys(("date", "weekday", "hour", "location", "domain", "url", "reader"),
                           "false"),
    "sms": {"networks": "false"},
    "web_push": {},
}  # fmt: skip
FIGURES = ("sends", "opens", "unique_opens", "clicks", "unique_clicks", "hard_bounces",
           "soft_bounces", "complaints", "unsubscriptions", "destinations", "bounces")  # fmt: skip


def _int(value: Any) -> int:
    try:
        return int(float(value or 0))
    except (TypeError, ValueError):
        return 0


class EgoiConnector(KitConnector):
    slug = "egoi"
    streams = streams_of(__file__)
    client_class = JsonRestClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lists: dict[str, str] | None = None
        self._from_start: set[str] = set()
        self.page_size = int(self.streams.extra["page_size"])

    def instant(self, value: Any) -> str | None:
        """E-goi's local `YYYY-MM-DD HH:MM:SS` (or a day) as ISO 8601 with its offset."""
        if not value:
            return None
        try:
            local = datetime.fromisoformat(str(value))
        except ValueError:
            return None
        return (local if local.tzinfo else local.replace(tzinfo=self.tz)).isoformat()

    async def account_info(self) -> AccountInfo:
        body = await self.client.get("my-account", {})
        info = body.get("general_info") or {} if isinstance(body, dict) else {}
        return AccountInfo(name=str(info.get("name") or "E-goi"), timezone=self.ctx.timezone)

    async def collection(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every item of a collection, `offset`/`limit` up to `total_items`."""
        items: list[dict[str, Any]] = []
        for _ in range(1000):
            query = {**params, "limit": str(self.page_size), "offset": str(len(items))}
            body = await self.client.get(path, query)
            page = [i for i in body.get("items") or [] if isinstance(i, dict)]
            items += page
            if not page or len(items) >= _int(body.get("total_items")):
                break
        return items

    async def lists(self) -> dict[str, str]:
        if self._lists is None:
            found = await self.collection("lists", {})
            self._lists = {str(x["list_id"]): str(x.get("public_name") or "") for x in found}
        return self._lists

    # --- "now": the lists' sizes (the sync snapshots them daily) ---

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        if request.end < self.today():
            return []  # only today is served: older days come from the archive
        return [
            PlannedCall("GET", "lists", {"limit": str(self.page_size), "offset": "0"}),
            PlannedCall("GET", "lists/{list_id}", {}, estimated=True),
        ]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        today = self.today()
        if request.end < today:
            return FetchResult()
        rows = []
        for list_id, name in (await self.lists()).items():
            stats = (await self.client.get(f"lists/{list_id}", {})).get("stats") or {}
            keys = {"list_id": list_id, "list_name": name}
            values = {k: _int(stats.get(k)) for k in ("total_contacts", "total_active",
                                                      "total_inactive")}  # fmt: skip
            wanted = {k: v for k, v in keys.items() if k in request.breakdowns}
            rows.append(Row(today, wanted, dict(values)))
        return FetchResult(rows=rows)

    # --- the records ---

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        lists = PlannedCall("GET", "lists", {"limit": str(self.page_size)}, estimated=True)
        if dataset == "contacts":
            size = str(self.streams.extra["contacts_page_size"])
            path = "lists/{list_id}/contacts"
            return [lists, PlannedCall("GET", path, {"limit": size}, estimated=True)]
        if dataset == "automations":
            return [lists, PlannedCall("GET", "automations", {"limit": "100"}, estimated=True)]
        listing = {"status": "sent", "limit": str(self.page_size)}
        return [
            lists,
            PlannedCall("GET", "campaigns", listing, estimated=True),
            *(
                PlannedCall(
                    "GET", f"reports/{path}/{{campaign_hash}}", REPORT_PARAMS[channel], True
                )
                for channel, path in REPORT_PATH.items()
            ),
        ]

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state = json.loads(cursor) if cursor else {}
        lists = await self.lists()
        if dataset == "contacts":
            return await self._contacts(state, lists)
        if dataset == "automations":
            items = await self.collection("automations", {})
            return RecordPage([self._automation(i, lists) for i in items], [], None, False,
                              listed_all=True)  # fmt: skip
        return await self._campaigns(state, lists)

    async def _contacts(self, state: dict[str, Any], lists: dict[str, str]) -> RecordPage:
        index, offset = int(state.get("index") or 0), int(state.get("offset") or 0)
        if index == 0 and offset == 0:
            self._from_start.add("contacts")
        ids = sorted(lists, key=int)
        if index >= len(ids):
            return RecordPage([], [], None, more=False)
        list_id, size = ids[index], int(self.streams.extra["contacts_page_size"])
        body = await self.client.get(
            f"lists/{list_id}/contacts", {"limit": str(size), "offset": str(offset)}
        )
        items = [i.get("base") or {} for i in body.get("items") or [] if isinstance(i, dict)]
        rows = [self._contact(base, list_id, lists[list_id]) for base in items]
        offset += len(items)
        if not items or offset >= _int(body.get("total_items")):
            index, offset = index + 1, 0
        if index < len(ids):
            return RecordPage(rows, [], json.dumps({"index": index, "offset": offset}), True)
        return RecordPage(rows, [], None, more=False, listed_all="contacts" in self._from_start)

    def _contact(self, base: dict[str, Any], list_id: str, list_name: str) -> RecordRow:
        status = str(base.get("status") or "")
        created, updated = self.instant(base.get("created")), self.instant(base.get("updated"))
        fields = {
            "list_id": list_id,
            "list_name": list_name,
            "status": status,
            "email": base.get("email"),
            "subscribed_at": created,
            "unsubscribed_at": updated if status == "inactive" else None,
            "created_at": created,
            "updated_at": updated,
        }
        return RecordRow(f"{list_id}:{base.get('contact_id')}", fields)

    def _automation(self, item: dict[str, Any], lists: dict[str, str]) -> RecordRow:
        list_id = str(item.get("list_id") or "")
        fields = {
            "automation_id": str(item.get("automation_id")),
            "title": item.get("title"),
            "list_id": list_id,
            "list_name": lists.get(list_id) or list_id,
            "status": item.get("status"),
            "created": str(item.get("created") or "") or None,
            "created_at": self.instant(item.get("created")),
            "updated_at": self.instant(item.get("updated")),
        }
        return RecordRow(str(item.get("automation_id")), fields)

    async def _campaigns(self, state: dict[str, Any], lists: dict[str, str]) -> RecordPage:
        if "pass" not in state:  # a new pass over the listing
            state = {"pass": self.clock().isoformat(), "offset": 0,
                     "final": state.get("final") or []}  # fmt: skip
        began = datetime.fromisoformat(state["pass"])
        settled = began - timedelta(days=int(self.streams.extra["refresh_days"]))
        final: set[str] = set(state["final"])
        params = {"status": "sent", "limit": str(self.page_size), "offset": str(state["offset"]),
                  "order_by": "created", "order": "asc"}  # fmt: skip
        body = await self.client.get("campaigns", params)
        items = [i for i in body.get("items") or [] if isinstance(i, dict)]
        rows = []
        for item in items:
            hash_, channel = str(item.get("campaign_hash")), str(item.get("channel"))
            if channel not in REPORT_PATH or hash_ in final:
                continue
            path = f"reports/{REPORT_PATH[channel]}/{hash_}"
            report = await self.client.get(path, REPORT_PARAMS[channel])
            row = self._campaign(item, report.get("overall") or {}, lists)
            rows.append(row)
            sent = row.fields["sent_at"]
            if sent and datetime.fromisoformat(str(sent)) < settled:
                final.add(hash_)  # read once it was this old: its figures are settled
        offset = int(state["offset"]) + len(items)
        if items and offset < _int(body.get("total_items")):
            next_state = {**state, "offset": offset, "final": sorted(final)}
            return RecordPage(rows, [], json.dumps(next_state), more=True)
        return RecordPage(rows, [], json.dumps({"final": sorted(final)}), more=False)

    def _campaign(
        self, item: dict[str, Any], overall: dict[str, Any], lists: dict[str, str]
    ) -> RecordRow:
        channel, list_id = str(item.get("channel")), str(item.get("list_id") or "")
        figures = {k: _int(overall.get(k)) for k in FIGURES}
        if channel == "email":
            delivered = figures["sends"] - figures["hard_bounces"] - figures["soft_bounces"]
        elif channel == "sms":
            delivered = _int(overall.get("delivered"))
        else:
            delivered = figures["sends"] - figures["bounces"]
        fields = {
            "campaign_hash": str(item.get("campaign_hash")),
            "channel": channel,
            "title": item.get("internal_name") or item.get("title"),
            "list_id": list_id,
            "list_name": lists.get(list_id) or list_id,
            "sent_at": self.instant(item.get("start_date")),
            "created_at": self.instant(item.get("created")),
            **figures,
            "delivered": delivered,
        }
        return RecordRow(str(item.get("campaign_hash")), fields)
