"""The HubSpot CRM API as the sandbox serves it (docs/networks/hubspot_crm.md):

- `POST /crm/v3/objects/{object}/search` (also under the date-versioned
  `/crm/objects/2026-03/{object}/search`): `filterGroups` (OR of ANDed filters; at most
  5 groups, 10 filters a group, 25 in all), one sort, `properties`, `limit` (at most
  200), `after`; `{"total", "results", "paging": {"next": {"after"}}}`. A search pages
  no further than 10,000 results: `after` + `limit` past that is a 400.
- `GET /crm/v3/objects/{object}?archived=true&limit=&after=&properties=` (archived
  records, `archivedAt`), `GET /crm/v3/owners`, `GET /crm/v3/pipelines/deals`,
  `GET /account-info/v3/details` (portal, time zone, currency).
- Bearer tokens; errors `{"status": "error", "message", "correlationId", "category"}`
  (EXPIRED_AUTHENTICATION, INVALID_AUTHENTICATION, MISSING_SCOPES, VALIDATION_ERROR,
  RATE_LIMITS with `policyName`); every answer carries the 10-second window's
  `X-HubSpot-RateLimit-*` headers, OAuth calls no daily ones (HubSpot sends those to
  private apps only).
"""

from __future__ import annotations

import json
import time
from collections import deque
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

from metrics_connect.engine.records import parse_instant
from metrics_connect.networks.hubspot_crm.emulator.data import (
    OBJECTS,
    CrmData,
    Props,
    iso,
    modified_property,
)
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.crm_objects import (
    CategoryError,
    admit,
    after_page,
    any_group,
    check_groups,
    invalid,
    json_body,
    json_route,
    number,
    rate_limited,
    sort_found,
)
from metrics_connect.sandbox.kit.records import Listings, TimedRecord

SEARCH_CAP = 10_000
TEN_SECOND_MAX = 110  # an OAuth app's burst per portal (HubSpot's usage guidelines)
DEFAULT_PROPERTIES = ("createdate", "hs_createdate", "hs_lastmodifieddate", "lastmodifieddate")


class HubSpotApp:
    def __init__(self, data: CrmData, controls: SandboxControls) -> None:
        self.data = data
        self.controls = controls
        self.search_cap = SEARCH_CAP
        self.window: deque[float] = deque()
        # Enforce the 10-second burst (off by default: the demo replays years quickly).
        self.enforce_burst = False
        self.searches: Listings[list[tuple[TimedRecord, Props]]] = Listings()

    def headers(self) -> dict[str, str]:
        now = time.monotonic()
        while self.window and self.window[0] < now - 10:
            self.window.popleft()
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(TEN_SECOND_MAX),
            "X-HubSpot-RateLimit-Remaining": str(max(0, TEN_SECOND_MAX - len(self.window))),
        }

    def burst(self) -> CategoryError | None:
        self.window.append(time.monotonic())
        return rate_limited() if self.enforce_burst and len(self.window) > TEN_SECOND_MAX else None

    async def admit(self, request: Request, endpoint: str) -> None:
        await admit(self.controls, request, endpoint, self.burst)

    def now(self) -> datetime:
        return self.controls.clock.now()

    # --- routes ---

    async def search(self, request: Request) -> dict[str, Any]:
        name = self._object(request)
        await self.admit(request, f"POST /crm/v3/objects/{name}/search")
        body = await json_body(request)
        groups = body.get("filterGroups") or []
        check_groups(groups)
        limit = number(body.get("limit"), 10)
        after = number(body.get("after"), 0)
        if not 1 <= limit <= 200:
            raise invalid("limit must be between 1 and 200.")
        if after + limit > self.search_cap:
            raise invalid(
                f"The search paged past its {self.search_cap} results: narrow the filters."
            )
        found = self._searched(name, groups, body.get("sorts") or [])
        asked = tuple(body.get("properties") or ())
        return after_page(
            found, limit, after, lambda rp: self._item(rp[0], rp[1], asked, archived=False)
        )

    def _searched(self, name: str, groups: list[Any], sorts: list[Any]) -> list[Any]:
        """The matching records in order; kept while the clock stands (the next pages)."""
        now = self.now()
        key = (name, now, json.dumps([groups, sorts], sort_keys=True, default=str))
        return self.searches.get(key, lambda: self._search(name, groups, sorts, now))

    def _search(
        self, name: str, groups: list[Any], sorts: list[Any], now: datetime
    ) -> list[tuple[TimedRecord, Props]]:
        since = _modified_since(name, groups)
        candidates = (
            self.data.modified_since(name, since, now)
            if since is not None
            else self.data.live(name, now)
        )
        found = [(r, p) for r, p in candidates if any_group(groups, p)]
        sort_found(found, sorts)
        return found

    async def listing(self, request: Request) -> dict[str, Any]:
        name = self._object(request)
        await self.admit(request, f"GET /crm/v3/objects/{name}")
        query = request.query_params
        limit = min(number(query.get("limit"), 10), 100)
        after = number(query.get("after"), 0)
        archived = query.get("archived", "false").lower() == "true"
        now = self.now()
        listed = self.data.archived(name, now) if archived else self.data.live(name, now)
        listed = sorted(listed, key=lambda rp: int(rp[0].id))
        asked = tuple(p for p in query.get("properties", "").split(",") if p)
        chosen = [(r, p) for r, p in listed if int(r.id) > after][:limit]
        out: dict[str, Any] = {
            "results": [self._item(r, p, asked, archived=archived) for r, p in chosen]
        }
        if len(chosen) == limit and chosen and int(chosen[-1][0].id) < int(listed[-1][0].id):
            out["paging"] = {"next": {"after": chosen[-1][0].id}}
        return out

    def _item(
        self, record: Any, props: Props, asked: tuple[str, ...], *, archived: bool
    ) -> dict[str, Any]:
        keep = set(asked) | set(DEFAULT_PROPERTIES) | {"hs_object_id"}
        item: dict[str, Any] = {
            "id": record.id,
            "properties": {k: v for k, v in props.items() if k in keep},
            "createdAt": iso(record.created),
            "updatedAt": iso(record.modified(self.now())),
            "archived": archived,
        }
        if archived and record.archived_at is not None:
            item["archivedAt"] = iso(record.archived_at)
        return item

    async def owners(self, request: Request) -> dict[str, Any]:
        await self.admit(request, "GET /crm/v3/owners")
        defaults = self.data.spec["owner_defaults"]
        return {"results": [{**owner, **defaults} for owner in self.data.owners]}

    async def pipelines(self, request: Request) -> dict[str, Any]:
        name = request.path_params["object"]
        await self.admit(request, f"GET /crm/v3/pipelines/{name}")
        if name != "deals":
            raise invalid(f"Unable to infer object type from: {name}")
        return {"results": [_pipeline(p, order) for order, p in enumerate(self.data.pipelines)]}

    async def details(self, request: Request) -> dict[str, Any]:
        await self.admit(request, "GET /account-info/v3/details")
        return {**self.data.account, "accountType": "STANDARD"}

    def _object(self, request: Request) -> str:
        name = str(request.path_params["object"])
        if name not in OBJECTS:
            raise invalid(f"Unable to infer object type from: {name}")
        return name


def _pipeline(pipeline: dict[str, Any], order: int) -> dict[str, Any]:
    stages = [
        {
            "id": stage["id"],
            "label": stage["label"],
            "displayOrder": i,
            "metadata": {
                "isClosed": "true" if stage.get("closed") else "false",
                "probability": stage["probability"],
            },
            "archived": False,
        }
        for i, stage in enumerate(pipeline["stages"])
    ]
    fields = {"id": pipeline["id"], "label": pipeline["label"], "displayOrder": order}
    return {**fields, "stages": stages, "archived": False}


def _modified_since(name: str, groups: list[dict[str, Any]]) -> datetime | None:
    """The instant of a lone group's `GTE` filter on the last-modified property, if any:
    the records that can match are then those modified since (data.modified_since)."""
    if len(groups) != 1:
        return None
    for flt in groups[0].get("filters") or []:
        if flt.get("propertyName") == modified_property(name) and flt.get("operator") == "GTE":
            return parse_instant(flt.get("value"))
    return None


def create_app(data: CrmData, controls: SandboxControls) -> Starlette:
    api = HubSpotApp(data, controls)
    routes = [
        ("/crm/v3/objects/{object}/search", api.search, "POST"),
        ("/crm/objects/2026-03/{object}/search", api.search, "POST"),
        ("/crm/v3/objects/{object}", api.listing, "GET"),
        ("/crm/v3/owners", api.owners, "GET"),
        ("/crm/v3/owners/", api.owners, "GET"),
        ("/crm/v3/pipelines/{object}", api.pipelines, "GET"),
        ("/account-info/v3/details", api.details, "GET"),
    ]
    app = Starlette(routes=[json_route(p, h, m, api.headers) for p, h, m in routes])
    app.state.api = api
    return app
