"""HubSpot CRM on the kit: every dataset is a records dataset synced by the object's
search (docs/networks/hubspot_crm.md). What no spec says:

- the incremental search: `filterGroups` on the last-modified property GTE the cursor,
  sorted by it ascending, `after` paging; before `after` passes the search's 10,000
  results, a new search starts from the last instant reached (records of that instant
  come again: an upsert, counted once);
- deletions: archived objects listed apart (`?archived=true`, kept by `archivedAt`),
  and a contact merged into another is gone (the survivor's `hs_merged_object_ids`);
- labels and outcomes denormalized onto the records: owner names (`/crm/v3/owners`),
  stage and pipeline labels, won and lost (`/crm/v3/pipelines/deals`), the close
  date only once a deal is closed (before, HubSpot's `closedate` is the expected one).
"""

from __future__ import annotations

import json
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
from metrics_connect.engine.records import parse_instant

MODIFIED = {"contacts": "lastmodifieddate"}  # every other object: hs_lastmodifieddate


def _ms(value: Any) -> int:
    instant = parse_instant(value)
    return int(instant.timestamp() * 1000) if instant is not None else 0


class HubSpotCrmConnector(KitConnector):
    slug = "hubspot_crm"
    streams = streams_of(__file__)
    client_class = JsonRestClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owners: dict[str, str] | None = None
        self._stages: dict[str, dict[str, Any]] | None = None

    async def account_info(self) -> AccountInfo:
        body = await self.client.get("account-info/v3/details", {})
        return AccountInfo(
            name=f"HubSpot portal {body.get('portalId')}",
            timezone=str(body.get("timeZone") or "UTC"),
            currency=body.get("companyCurrency"),
        )

    # --- "now": open deals per stage (the sync snapshots it daily) ---

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        if request.dataset != "open_deals":
            return super().plan_calls(request)
        if request.end < self.today():
            return []  # only today is served: older days come from the archive
        # The lookups, then one search a stage (how many: the pipelines say).
        return [
            PlannedCall("GET", "crm/v3/owners", {"limit": "100"}),
            PlannedCall("GET", "crm/v3/pipelines/deals", {}),
            PlannedCall("POST", "crm/v3/objects/deals/search", {"limit": "1"}, estimated=True),
        ]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset != "open_deals":
            return await super().fetch(request)
        today = self.today()
        if request.end < today:
            return FetchResult()
        await self._lookups("deals")
        rows = []
        for stage_id, stage in (self._stages or {}).items():
            if stage["closed"]:
                continue
            body = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "dealstage", "operator": "EQ", "value": stage_id}
                        ]
                    }
                ],
                "properties": ["dealstage"],
                "limit": 1,
            }
            answer = await self.client.request("POST", "crm/v3/objects/deals/search", {}, json=body)
            keys = {
                "stage": stage_id,
                "stage_label": str(stage["label"]),
                "pipeline_label": str(stage["pipeline_label"]),
            }
            rows.append(Row(today, keys, {"open_deals": int(answer.get("total") or 0)}))
        return FetchResult(rows=rows)

    # --- the incremental sync ---

    def _object(self, dataset: str) -> tuple[str, str, dict[str, str]]:
        extra = self.streams.datasets[dataset].extra
        name = str(extra["object"])
        return name, MODIFIED.get(name, "hs_lastmodifieddate"), dict(extra["rename"])

    def _search_body(self, dataset: str, since: int, after: str | None) -> dict[str, Any]:
        _, modified, rename = self._object(dataset)
        body: dict[str, Any] = {
            "filterGroups": [
                {"filters": [{"propertyName": modified, "operator": "GTE", "value": str(since)}]}
            ],
            "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
            "properties": sorted(rename),
            "limit": int(self.streams.extra["page_size"]),
        }
        if after is not None:
            body["after"] = after
        return body

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        state = json.loads(cursor) if cursor else {}
        name, _, _ = self._object(dataset)
        body = self._search_body(dataset, int(state.get("since", 0)), state.get("after"))
        calls = [
            PlannedCall("GET", "crm/v3/owners", {"limit": "100"}, estimated=True),
            PlannedCall("POST", f"crm/v3/objects/{name}/search", {"body": json.dumps(body)}, True),
            PlannedCall(
                "GET", f"crm/v3/objects/{name}", {"archived": "true", "limit": "100"}, True
            ),
        ]
        if name == "deals":
            calls.insert(1, PlannedCall("GET", "crm/v3/pipelines/deals", {}, estimated=True))
        return calls

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state = json.loads(cursor) if cursor else {}
        since, after = int(state.get("since", 0)), state.get("after")
        archived_since = int(state.get("archived_since", 0))
        name, modified, _ = self._object(dataset)
        await self._lookups(name)
        answer = await self.client.request(
            "POST",
            f"crm/v3/objects/{name}/search",
            {},
            json=self._search_body(dataset, since, after),
        )
        items = [i for i in answer.get("results") or [] if isinstance(i, dict)]
        rows = [self._row(dataset, item) for item in items]
        latest = max([since, *(_ms((i.get("properties") or {}).get(modified)) for i in items)])
        merged = self._merged(dataset, items)
        following = ((answer.get("paging") or {}).get("next") or {}).get("after")
        if following is not None:
            cap, size = int(self.streams.extra["search_cap"]), int(self.streams.extra["page_size"])
            if int(following) + size <= cap:
                state = {**state, "after": str(following)}
            else:  # the search's cap: a new search from the last instant reached
                state = {**state, "since": latest if latest > since else since + 1, "after": None}
            return RecordPage(rows, merged, json.dumps(state), more=True)
        gone, newest = await self._archived(name, archived_since)
        state = {"since": latest, "after": None, "archived_since": max(newest, archived_since)}
        return RecordPage(rows, merged + gone, json.dumps(state), more=False)

    async def _archived(self, name: str, since: int) -> tuple[list[str], int]:
        """Ids archived at or after `since` (ms), and the newest archivedAt seen."""
        gone: list[str] = []
        newest = since
        params: dict[str, str] = {"archived": "true", "limit": "100"}
        for _ in range(10_000):
            body = await self.client.get(f"crm/v3/objects/{name}", params)
            for item in body.get("results") or []:
                at = _ms(item.get("archivedAt"))
                if at >= since:
                    gone.append(str(item["id"]))
                    newest = max(newest, at)
            following = ((body.get("paging") or {}).get("next") or {}).get("after")
            if following is None:
                break
            params = {**params, "after": str(following)}
        return gone, newest

    def _merged(self, dataset: str, items: list[dict[str, Any]]) -> list[str]:
        prop = self.streams.datasets[dataset].extra.get("merged_property")
        if not prop:
            return []
        ids: list[str] = []
        for item in items:
            text = (item.get("properties") or {}).get(prop) or ""
            ids += [i for i in str(text).split(";") if i]
        return ids

    async def _lookups(self, name: str) -> None:
        if self._owners is None:
            owners: dict[str, str] = {}
            params = {"limit": "100"}
            for _ in range(1000):
                body = await self.client.get("crm/v3/owners", params)
                for owner in body.get("results") or []:
                    label = f"{owner.get('firstName') or ''} {owner.get('lastName') or ''}".strip()
                    owners[str(owner.get("id"))] = label or str(owner.get("email") or owner["id"])
                following = ((body.get("paging") or {}).get("next") or {}).get("after")
                if following is None:
                    break
                params = {**params, "after": str(following)}
            self._owners = owners
        if name == "deals" and self._stages is None:
            body = await self.client.get("crm/v3/pipelines/deals", {})
            stages: dict[str, dict[str, Any]] = {}
            for pipeline in body.get("results") or []:
                for stage in pipeline.get("stages") or []:
                    meta = stage.get("metadata") or {}
                    stages[str(stage["id"])] = {
                        "label": stage.get("label"),
                        "pipeline_label": pipeline.get("label"),
                        "closed": meta.get("isClosed") == "true",
                        "won": meta.get("isClosed") == "true" and meta.get("probability") == "1.0",
                    }
            self._stages = stages

    def _row(self, dataset: str, item: dict[str, Any]) -> RecordRow:
        extra = self.streams.datasets[dataset].extra
        props = item.get("properties") or {}
        fields: dict[str, Any] = {new: props.get(old) for old, new in extra["rename"].items()}
        for old, new in (extra.get("seconds_from_ms") or {}).items():
            raw = props.get(old)
            fields[new] = round(float(str(raw)) / 1000, 3) if raw not in (None, "") else None
        owner = fields.get("owner")
        fields["owner_name"] = (self._owners or {}).get(str(owner), str(owner)) if owner else None
        if dataset == "deals":
            closed = fields.pop("is_closed") == "true"
            won = fields.pop("is_closed_won") == "true"
            stage = (self._stages or {}).get(str(fields.get("stage")), {})
            fields |= {
                "won": closed and won,
                "lost": closed and not won,
                "closed_at": fields["expected_close"] if closed else None,
                "stage_label": stage.get("label"),
                "pipeline_label": stage.get("pipeline_label"),
            }
        return RecordRow(str(item["id"]), fields)
