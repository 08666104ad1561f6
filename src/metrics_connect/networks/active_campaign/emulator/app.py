"""The ActiveCampaign API v3 as the sandbox serves it (docs/networks/active_campaign.md):

- `https://<account>.api-us1.com/api/3/...` with the account's API key in the `Api-Token`
  header (Settings > Developer); no OAuth;
- listings `GET /contacts`, `/deals`, `/campaigns`, `/contactAutomations`, `/automations`,
  `/dealGroups` (its `dealStages` sideloaded), `/dealStages`, `/lists`, `/forms`,
  `/users`: `limit` (default 20, at most 100) and `offset`, `{"<name>": [...], "meta":
  {"total": "<n>"}}` in id order; `filters[created_after]`, `filters[updated_after]`
  (and `_before`) on contacts and deals; `include=contactLists` sideloads a contact's
  list subscriptions (the form it came through); deleted records are simply gone;
- every number a string, dates in the account's time zone with their offset;
- `GET /users/me` (the key's user, its `localZoneid`);
- errors: 403 `{"message"}` for a missing or refused key, 429 past 5 calls a second
  (with Retry-After), 422 `{"errors": [{"title", "detail", "code", "source"}]}` for a
  bad filter, 404 `{"message"}` for an unknown path.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.engine.records import parse_instant
from metrics_connect.networks.active_campaign.emulator.data import ActiveCampaignData
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault

PER_SECOND = 5
MAX_LIMIT = 100
DATE_FIELDS = ("cdate", "udate", "mdate", "sdate", "ldate", "adddate", "remdate", "lastdate")
FILTERED = {"contacts": ("cdate", "udate"), "deals": ("cdate", "mdate")}


class AcError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, self.status, headers=self.headers)


def _invalid(field: str, detail: str) -> AcError:
    error = {"title": "Invalid filter", "detail": detail, "code": "invalid", "source": {}}
    error["source"] = {"parameter": field}
    return AcError(422, {"errors": [error]})


class ActiveCampaignApp:
    def __init__(self, data: ActiveCampaignData, controls: SandboxControls) -> None:
        self.data, self.controls = data, controls
        self.zone = ZoneInfo(str(data.account["timezone"]))
        self.window: deque[float] = deque()
        self.enforce_rate = False  # off by default: the demo replays years quickly

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(request.headers.get("api-token"))
        if fault is not None:
            message = "No API key provided" if fault is TokenFault.MISSING else "Forbidden"
            raise AcError(403, {"message": message})
        now = time.monotonic()
        self.window.append(now)
        while self.window and self.window[0] < now - 1:
            self.window.popleft()
        over = self.enforce_rate and len(self.window) > PER_SECOND
        if over or controls.should_rate_limit():
            wait = str(controls.switches.retry_after_seconds)
            raise AcError(429, {"message": "Too Many Requests"}, {"Retry-After": wait})
        if controls.should_fail():
            raise AcError(503, {"message": "Service Unavailable"})

    def local(self, value: Any) -> Any:
        """ActiveCampaign writes instants in the account's zone with their offset."""
        instant = parse_instant(value) if isinstance(value, str) else None
        return instant.astimezone(self.zone).isoformat(timespec="seconds") if instant else value

    def shown(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {k: self.local(v) if k in DATE_FIELDS else v for k, v in fields.items()}

    def page(self, request: Request, items: list[dict[str, Any]], name: str) -> dict[str, Any]:
        query = request.query_params
        try:
            limit, offset = int(query.get("limit", "20")), int(query.get("offset", "0"))
        except ValueError:
            raise _invalid("limit", "limit and offset must be integers") from None
        limit = max(1, min(limit, MAX_LIMIT))  # a larger limit is silently capped
        chunk = items[max(offset, 0) : max(offset, 0) + limit]
        return {name: chunk, "meta": {"total": str(len(items))}}

    def _filtered(self, request: Request, name: str, items: list[dict[str, Any]]) -> list[Any]:
        created, updated = FILTERED.get(name, ("", ""))
        for key, raw in request.query_params.items():
            if not key.startswith("filters["):
                continue
            what = key[len("filters[") : -1]
            field = {"created": created, "updated": updated}.get(what.split("_")[0])
            bound = parse_instant(raw)
            if not field or bound is None or what.split("_")[-1] not in ("after", "before"):
                raise _invalid(key, f"{key} is not a date filter of {name}: {raw!r}")
            after = what.endswith("_after")
            items = [
                i
                for i in items
                if (at := parse_instant(i.get(field))) is not None
                and (at > bound if after else at < bound)
            ]
        return items

    async def records(self, request: Request) -> JSONResponse:
        name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        await self.admit(request, f"GET /api/3/{name}")
        listed = [dict(f) for _, f in self.data.live(name, self.controls.clock.now())]
        listed = self._filtered(request, name, listed)
        body = self.page(request, listed, name)
        sideloaded: list[dict[str, Any]] = []
        for item in body[name]:
            for subscription in item.pop("contactLists", None) or []:
                sideloaded.append({"contact": item["id"], "id": item["id"], **subscription})
            item["links"] = {}
        body[name] = [self.shown(item) for item in body[name]]
        if name == "contacts" and "contactLists" in request.query_params.get("include", ""):
            body["contactLists"] = [self.shown(s) for s in sideloaded]
        return JSONResponse(body)

    async def lookup(self, request: Request) -> JSONResponse:
        name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        await self.admit(request, f"GET /api/3/{name}")
        data = self.data
        stages = [
            {"id": s["id"], "group": p["id"], "title": s["title"], "order": str(i + 1)}
            for p in data.pipelines
            for i, s in enumerate(p["stages"])
        ]
        tables: dict[str, list[dict[str, Any]]] = {
            "users": [{k: v for k, v in u.items()} for u in data.users],
            "dealGroups": [
                {
                    "id": p["id"],
                    "title": p["title"],
                    "currency": p["currency"],
                    "stages": [s["id"] for s in p["stages"]],
                }
                for p in data.pipelines
            ],
            "dealStages": stages,
            "lists": [{"id": li["id"], "name": li["name"]} for li in data.lists],
            "forms": [{"id": f["id"], "name": f["name"]} for f in data.forms],
            "automations": [
                {"id": a["id"], "name": a["name"], "status": a["status"]} for a in data.automations
            ],
        }
        body = self.page(request, tables[name], name)
        if name == "dealGroups":
            body["dealStages"] = stages
        return JSONResponse(body)

    async def me(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/3/users/me")
        user = self.data.users[0]
        return JSONResponse({"user": {**user, "localZoneid": self.data.account["timezone"]}})


def create_app(data: ActiveCampaignData, controls: SandboxControls) -> Starlette:
    api = ActiveCampaignApp(data, controls)

    def guarded(handler: Any) -> Any:
        async def route(request: Request) -> JSONResponse:
            try:
                return await handler(request)
            except AcError as exc:
                return exc.response()

        return route

    listings = ("contacts", "deals", "campaigns", "contactAutomations")
    lookups = ("users", "dealGroups", "dealStages", "lists", "forms", "automations")
    app = Starlette(
        routes=[
            Route("/api/3/users/me", guarded(api.me)),
            *(Route(f"/api/3/{name}", guarded(api.records)) for name in listings),
            *(Route(f"/api/3/{name}", guarded(api.lookup)) for name in lookups),
        ]
    )
    app.state.api = api
    return app
