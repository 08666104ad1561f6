"""Pipedrive on the kit: deals, leads and activities as records datasets
(docs/networks/pipedrive.md). What no spec says:

- deals and activities (API v2): `updated_since` the last `update_time` synced, sorted by
  it, `cursor` paging; deals are asked with every status, `deleted` included (Pipedrive
  keeps a deleted deal 30 days, `is_deleted`), deleted activities come flagged alike:
  both become `deleted_ids`. The next sync starts again at the last instant reached
  (records of that instant come again: an upsert, counted once);
- leads and the inbox's mail threads (API v1) filter nothing by modification: each sync
  is a full listing (`start`/`limit`; `archived_status=all`, `folder=inbox`) that says
  `listed_all` when walked from its first page, so the store marks deleted what it no
  longer lists; mail timestamps are v1's UTC "YYYY-MM-DD HH:MM:SS";
- the company domain: with the default host, calls go to the company's own
  `https://{company}.pipedrive.com` (the token's `api_domain`, stored at connect time
  from `users/me`), only when it is such a host; a configured host (sandbox) wins;
- labels denormalized onto the records: owner names (`/api/v1/users`), pipeline labels
  (`/api/v2/pipelines`), stage labels and their place in the pipeline (`/api/v2/stages`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from metrics_connect.connectors.base import AccountInfo, PlannedCall, RecordPage, RecordRow
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import streams_of

LISTING = {
    "deals": "api/v2/deals",
    "activities": "api/v2/activities",
    "leads": "api/v1/leads",
    "mail_threads": "api/v1/mailbox/mailThreads",
}
# v1 listings filter nothing by modification: listed in full each sync.
FULL_LISTING = {"leads": {"archived_status": "all"}, "mail_threads": {"folder": "inbox"}}
DEFAULT_HOST = "https://api.pipedrive.com"
COMPANY_HOST = re.compile(r"^https://[a-z0-9][a-z0-9-]{0,62}\.pipedrive\.com$")
LOOKUPS = {
    "deals": ["api/v1/users", "api/v2/pipelines", "api/v2/stages"],
    "activities": ["api/v1/users"],
    "leads": ["api/v1/users"],
    "mail_threads": ["api/v1/users"],
}


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _key(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _data(body: Any) -> list[dict[str, Any]]:
    items = body.get("data") if isinstance(body, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


class PipedriveConnector(KitConnector):
    slug = "pipedrive"
    streams = streams_of(__file__)
    client_class = JsonRestClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._users: dict[str, str] | None = None
        self._pipelines: dict[str, str] | None = None
        self._stages: dict[str, dict[str, Any]] | None = None
        self._from_first_page: set[str] = set()
        domain = str(self.ctx.credentials.get("api_domain") or "").rstrip("/")
        if self.ctx.base_url.rstrip("/") == DEFAULT_HOST and COMPANY_HOST.match(domain):
            self.client.base = domain

    async def account_info(self) -> AccountInfo:
        me = (await self.client.get("api/v1/users/me", {})).get("data") or {}
        return AccountInfo(
            name=str(me.get("company_name") or "Pipedrive"),
            timezone=str(me.get("timezone_name") or "UTC"),
            currency=me.get("default_currency"),
        )

    def _params(self, dataset: str, state: dict[str, Any]) -> dict[str, str]:
        size = str(self.streams.extra["page_size"])
        if dataset in FULL_LISTING:
            return {"start": str(state.get("start") or 0), "limit": size, **FULL_LISTING[dataset]}
        params = {"limit": size, "sort_by": "update_time", "sort_direction": "asc"}
        if dataset == "deals":
            params["status"] = "open,won,lost,deleted"
        if state.get("since"):
            params["updated_since"] = str(state["since"])
        if state.get("cursor"):
            params["cursor"] = str(state["cursor"])
        return params

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        state = json.loads(cursor) if cursor else {}
        listing = PlannedCall("GET", LISTING[dataset], self._params(dataset, state), estimated=True)
        return [PlannedCall("GET", path, {}, estimated=True) for path in LOOKUPS[dataset]] + [
            listing
        ]

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        await self._lookups(dataset)
        body = await self.client.get(LISTING[dataset], self._params(dataset, state))
        items = _data(body)
        if dataset in FULL_LISTING:
            return self._full_listing_page(dataset, items, body, state)
        rows = [self._deal(i) if dataset == "deals" else self._activity(i) for i in items]
        live = [row for row, item in zip(rows, items, strict=True) if not item.get("is_deleted")]
        gone = [row.id for row, item in zip(rows, items, strict=True) if item.get("is_deleted")]
        # The next search starts at the latest update_time reached (never moves back).
        since = max([str(i.get("update_time") or "") for i in items] + [state.get("since") or ""])
        following = (body.get("additional_data") or {}).get("next_cursor")
        if following:
            return RecordPage(live, gone, json.dumps({**state, "cursor": following}), more=True)
        return RecordPage(live, gone, json.dumps({"since": since or None}), more=False)

    def _full_listing_page(
        self, dataset: str, items: list[dict[str, Any]], body: Any, state: dict[str, Any]
    ) -> RecordPage:
        start = int(state.get("start") or 0)
        if start == 0:
            self._from_first_page.add(dataset)
        row = self._lead if dataset == "leads" else self._thread
        rows = [row(item) for item in items]
        paging = (body.get("additional_data") or {}).get("pagination") or {}
        if paging.get("more_items_in_collection"):
            following = int(paging.get("next_start") or start + len(items))
            return RecordPage(rows, [], json.dumps({"start": following}), more=True)
        complete = dataset in self._from_first_page
        return RecordPage(rows, [], json.dumps({"start": 0}), more=False, listed_all=complete)

    async def _lookups(self, dataset: str) -> None:
        if self._users is None:
            users = _data(await self.client.get("api/v1/users", {}))
            self._users = {str(u.get("id")): str(u.get("name")) for u in users}
        if dataset == "deals" and self._stages is None:
            pipelines = _data(await self.client.get("api/v2/pipelines", {}))
            self._pipelines = {str(p.get("id")): str(p.get("name")) for p in pipelines}
            stages = _data(await self.client.get("api/v2/stages", {}))
            self._stages = {str(s.get("id")): s for s in stages}

    def _owner(self, owner_id: Any) -> dict[str, Any]:
        owner = _key(owner_id)
        name = (self._users or {}).get(owner) if owner else None
        return {"owner": owner, "owner_name": name or owner}

    def _deal(self, deal: dict[str, Any]) -> RecordRow:
        stage = (self._stages or {}).get(str(deal.get("stage_id")), {})
        pipeline = _key(deal.get("pipeline_id") or stage.get("pipeline_id"))
        status = deal.get("status")
        fields = {
            "title": deal.get("title"),
            "amount": _number(deal.get("value")),
            "currency": deal.get("currency"),
            "pipeline": pipeline,
            "pipeline_label": (self._pipelines or {}).get(str(pipeline)),
            "stage": _key(deal.get("stage_id")),
            "stage_label": stage.get("name"),
            "stage_order": stage.get("order_nr"),
            **self._owner(deal.get("owner_id")),
            "status": status,
            "won": status == "won",
            "lost": status == "lost",
            "open": status == "open",
            "lost_reason": deal.get("lost_reason") if status == "lost" else None,
            "created_at": deal.get("add_time"),
            "updated_at": deal.get("update_time"),
            "stage_changed_at": deal.get("stage_change_time"),
            "won_at": deal.get("won_time") if status == "won" else None,
            "lost_at": deal.get("lost_time") if status == "lost" else None,
            "closed_at": deal.get("close_time") if status in ("won", "lost") else None,
        }
        return RecordRow(str(deal.get("id")), fields)

    def _lead(self, lead: dict[str, Any]) -> RecordRow:
        fields = {
            "title": lead.get("title"),
            **self._owner(lead.get("owner_id")),
            "archived": lead.get("is_archived") is True,
            "source": lead.get("source_name"),
            "created_at": lead.get("add_time"),
            "updated_at": lead.get("update_time"),
        }
        return RecordRow(str(lead.get("id")), fields)

    def _activity(self, activity: dict[str, Any]) -> RecordRow:
        done = activity.get("done") is True
        due = activity.get("due_date")
        if due and activity.get("due_time"):
            due = f"{due}T{activity['due_time']}:00Z"  # Pipedrive keeps due times in UTC
        fields = {
            "subject": activity.get("subject"),
            "type": activity.get("type"),
            "done": done,
            **self._owner(activity.get("owner_id")),
            "created_at": activity.get("add_time"),
            "updated_at": activity.get("update_time"),
            "due_at": due,
            "done_at": activity.get("marked_as_done_time") if done else None,
        }
        return RecordRow(str(activity.get("id")), fields)

    def _thread(self, thread: dict[str, Any]) -> RecordRow:
        def utc(stamp: Any) -> str | None:
            return f"{str(stamp).replace(' ', 'T')}Z" if stamp else None

        fields = {
            "subject": thread.get("subject"),
            "messages": _number(thread.get("message_count")),
            **self._owner(thread.get("user_id")),
            "created_at": utc(thread.get("first_message_timestamp")),
            "updated_at": utc(thread.get("last_message_timestamp")),
        }
        return RecordRow(str(thread.get("id")), fields)
