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

import functools
import json
import time
import uuid
from collections import deque
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.engine.records import parse_instant
from metrics_connect.networks.hubspot_crm.emulator.data import (
    OBJECTS,
    CrmData,
    Props,
    iso,
    modified_property,
)
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.json_rest import credential

SEARCH_CAP = 10_000
TEN_SECOND_MAX = 110  # an OAuth app's burst per portal (HubSpot's usage guidelines)
DEFAULT_PROPERTIES = ("createdate", "hs_createdate", "hs_lastmodifieddate", "lastmodifieddate")


class HubSpotError(Exception):
    def __init__(self, status: int, category: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra

    def response(self, headers: dict[str, str]) -> JSONResponse:
        body = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
            **self.extra,
        }
        return JSONResponse(body, status_code=self.status, headers=headers)


_TOKEN_ERRORS = {
    TokenFault.MISSING: (401, "INVALID_AUTHENTICATION", "Authentication credentials not found."),
    TokenFault.FOREIGN: (401, "INVALID_AUTHENTICATION", "The OAuth token used is not valid."),
    TokenFault.EXPIRED: (
        401,
        "EXPIRED_AUTHENTICATION",
        "The OAuth token used to make this call expired 2 minute(s) ago.",
    ),
    TokenFault.REVOKED: (
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call.",
    ),
}


class HubSpotApp:
    def __init__(self, data: CrmData, controls: SandboxControls) -> None:
        self.data = data
        self.controls = controls
        self.search_cap = SEARCH_CAP
        self.window: deque[float] = deque()
        # Enforce the 10-second burst (off by default: the demo replays years quickly).
        self.enforce_burst = False
        self.searches: dict[tuple[str, datetime, str], list[Any]] = {}

    def headers(self) -> dict[str, str]:
        now = time.monotonic()
        while self.window and self.window[0] < now - 10:
            self.window.popleft()
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(TEN_SECOND_MAX),
            "X-HubSpot-RateLimit-Remaining": str(max(0, TEN_SECOND_MAX - len(self.window))),
        }

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(credential(request))
        if fault is not None:
            raise HubSpotError(*_TOKEN_ERRORS[fault])
        self.window.append(time.monotonic())
        over = self.enforce_burst and len(self.window) > TEN_SECOND_MAX
        if over or controls.should_rate_limit():
            raise HubSpotError(
                429,
                "RATE_LIMITS",
                "You have reached your ten_secondly_rolling limit.",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
            )
        if controls.should_fail():
            raise HubSpotError(502, "INTERNAL_ERROR", "Bad gateway: try again.")

    def now(self) -> datetime:
        return self.controls.clock.now()

    # --- routes ---

    async def search(self, request: Request) -> JSONResponse:
        name = self._object(request)
        await self.admit(request, f"POST /crm/v3/objects/{name}/search")
        body = await _json(request)
        groups = body.get("filterGroups") or []
        filters = [f for g in groups for f in (g.get("filters") or [])]
        if (
            len(groups) > 5
            or len(filters) > 25
            or any(len(g.get("filters") or []) > 10 for g in groups)
        ):
            raise HubSpotError(400, "VALIDATION_ERROR", "Too many filterGroups or filters.")
        limit = _int(body.get("limit"), 10)
        after = _int(body.get("after"), 0)
        if not 1 <= limit <= 200:
            raise HubSpotError(400, "VALIDATION_ERROR", "limit must be between 1 and 200.")
        if after + limit > self.search_cap:
            raise HubSpotError(
                400,
                "VALIDATION_ERROR",
                f"The search paged past its {self.search_cap} results: narrow the filters.",
            )
        sorts = body.get("sorts") or []
        found = self._searched(name, groups, sorts)
        page = found[after : after + limit]
        asked = tuple(body.get("properties") or ())
        out: dict[str, Any] = {
            "total": len(found),
            "results": [self._item(r, p, asked, archived=False) for r, p in page],
        }
        if after + limit < len(found):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return JSONResponse(out, headers=self.headers())

    def _searched(self, name: str, groups: list[Any], sorts: list[Any]) -> list[Any]:
        """The matching records in order; kept while the clock stands (the next pages)."""
        now = self.now()
        key = (name, now, json.dumps([groups, sorts], sort_keys=True, default=str))
        found = self.searches.get(key)
        if found is not None:
            return found
        since = _modified_since(name, groups)
        candidates = (
            self.data.modified_since(name, since, now)
            if since is not None
            else self.data.live(name, now)
        )
        found = [(r, p) for r, p in candidates if _any_group(groups, p)]
        if sorts:
            sort = sorts[0] if isinstance(sorts[0], dict) else {"propertyName": str(sorts[0])}
            prop = str(sort.get("propertyName") or "")
            descending = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
            found.sort(
                key=lambda rp: (_sortable(rp[1].get(prop)), int(rp[0].id)), reverse=descending
            )
        else:
            found.sort(key=lambda rp: int(rp[0].id))
        if len(self.searches) > 64:
            self.searches.clear()
        self.searches[key] = found
        return found

    async def listing(self, request: Request) -> JSONResponse:
        name = self._object(request)
        await self.admit(request, f"GET /crm/v3/objects/{name}")
        query = request.query_params
        limit = min(_int(query.get("limit"), 10), 100)
        after = _int(query.get("after"), 0)
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
        return JSONResponse(out, headers=self.headers())

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

    async def owners(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /crm/v3/owners")
        results = [
            {
                **owner,
                "createdAt": "2023-01-10T12:00:00.000Z",
                "updatedAt": "2023-01-10T12:00:00.000Z",
                "archived": False,
                "teams": [],
            }
            for owner in self.data.owners
        ]
        return JSONResponse({"results": results}, headers=self.headers())

    async def pipelines(self, request: Request) -> JSONResponse:
        name = request.path_params["object"]
        await self.admit(request, f"GET /crm/v3/pipelines/{name}")
        if name != "deals":
            raise HubSpotError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
        results = []
        for order, pipeline in enumerate(self.data.pipelines):
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
            results.append(
                {
                    "id": pipeline["id"],
                    "label": pipeline["label"],
                    "displayOrder": order,
                    "stages": stages,
                    "archived": False,
                }
            )
        return JSONResponse({"results": results}, headers=self.headers())

    async def details(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /account-info/v3/details")
        account = self.data.account
        return JSONResponse({**account, "accountType": "STANDARD"}, headers=self.headers())

    def _object(self, request: Request) -> str:
        name = str(request.path_params["object"])
        if name not in OBJECTS:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
        return name


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON.") from None
    if not isinstance(body, dict):
        raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON.")
    return body


def _int(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise HubSpotError(400, "VALIDATION_ERROR", f"{value!r} is not a number.") from None


@functools.lru_cache(maxsize=200_000)
def _sortable(value: Any) -> tuple[int, float, str]:
    """A property value as HubSpot compares it: numbers and instants by value."""
    if value in (None, ""):
        return (0, 0.0, "")
    text = str(value)
    try:
        return (1, float(text), "")
    except ValueError:
        pass
    instant = parse_instant(text) if "-" in text[:5] else None
    if instant is not None:
        return (1, instant.timestamp() * 1000, "")
    return (2, 0.0, text.lower())


def _matches(flt: dict[str, Any], props: Props) -> bool:
    operator = str(flt.get("operator", "EQ")).upper()
    actual = props.get(str(flt.get("propertyName")))
    if operator == "HAS_PROPERTY":
        return actual not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return actual in (None, "")
    if actual in (None, ""):
        return operator == "NEQ"
    left = _sortable(actual)
    if operator in ("IN", "NOT_IN"):
        values = {_sortable(v) for v in flt.get("values") or []}
        return (left in values) == (operator == "IN")
    right = _sortable(flt.get("value"))
    if operator == "BETWEEN":
        return right <= left <= _sortable(flt.get("highValue"))
    if operator == "CONTAINS_TOKEN":
        return str(flt.get("value", "")).lower().strip("*") in str(actual).lower()
    checks = {
        "EQ": left == right,
        "NEQ": left != right,
        "LT": left < right,
        "LTE": left <= right,
        "GT": left > right,
        "GTE": left >= right,
    }
    if operator not in checks:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Unknown operator {operator}.")
    return checks[operator]


def _modified_since(name: str, groups: list[dict[str, Any]]) -> datetime | None:
    """The instant of a lone group's `GTE` filter on the last-modified property, if any:
    the records that can match are then those modified since (data.modified_since)."""
    if len(groups) != 1:
        return None
    for flt in groups[0].get("filters") or []:
        if flt.get("propertyName") == modified_property(name) and flt.get("operator") == "GTE":
            return parse_instant(flt.get("value"))
    return None


def _any_group(groups: list[dict[str, Any]], props: Props) -> bool:
    if not groups:
        return True
    return any(all(_matches(f, props) for f in g.get("filters") or []) for g in groups)


def create_app(data: CrmData, controls: SandboxControls) -> Starlette:
    api = HubSpotApp(data, controls)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Any:
            try:
                return await handler(request)
            except HubSpotError as exc:
                return exc.response(api.headers())

        return endpoint

    routes = [
        Route("/crm/v3/objects/{object}/search", guarded(api.search), methods=["POST"]),
        Route("/crm/objects/2026-03/{object}/search", guarded(api.search), methods=["POST"]),
        Route("/crm/v3/objects/{object}", guarded(api.listing), methods=["GET"]),
        Route("/crm/v3/owners", guarded(api.owners), methods=["GET"]),
        Route("/crm/v3/owners/", guarded(api.owners), methods=["GET"]),
        Route("/crm/v3/pipelines/{object}", guarded(api.pipelines), methods=["GET"]),
        Route("/account-info/v3/details", guarded(api.details), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.api = api
    return app
