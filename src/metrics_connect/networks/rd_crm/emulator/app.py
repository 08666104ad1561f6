"""The RD Station CRM API v1 as the sandbox serves it (docs/networks/rd_crm.md):

- `https://crm.rdstation.com/api/v1/...?token=<API token>` (the token of the user's
  profile, a query parameter; no OAuth on v1);
- `GET /deals` and `GET /tasks`: `page` (from 1) and `limit` (at most 200),
  `{"total", "has_more", "deals"|"tasks"}`, in creation order; a listing reaches no
  further than its first 10,000 records (a page past that is a 400); deleted deals are
  simply no longer listed;
- `GET /users` (`{"users"}`), `GET /teams`, `GET /deal_pipelines` (with their
  `deal_stages`);
- errors `{"errors": "<message>"}`: 401 for a missing or refused token, 429 past 120
  calls a minute (with Retry-After), 400 for bad paging.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.rd_crm.emulator.data import RdCrmData
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault

LISTING_CAP = 10_000
PER_MINUTE = 120


class RdError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"errors": self.message}, self.status, headers=self.headers)


_TOKEN_ERRORS = {
    TokenFault.MISSING: "Token não informado.",
    TokenFault.FOREIGN: "Token inválido.",
    TokenFault.EXPIRED: "Token inválido.",  # v1 tokens do not expire: regenerated, refused
    TokenFault.REVOKED: "Token inválido.",
}


class RdCrmApp:
    def __init__(self, data: RdCrmData, controls: SandboxControls) -> None:
        self.data, self.controls = data, controls
        self.window: deque[float] = deque()
        self.enforce_minute = False  # off by default: the demo replays years quickly

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(request.query_params.get("token"))
        if fault is not None:
            raise RdError(401, _TOKEN_ERRORS[fault])
        now = time.monotonic()
        self.window.append(now)
        while self.window and self.window[0] < now - 60:
            self.window.popleft()
        over = self.enforce_minute and len(self.window) > PER_MINUTE
        if over or controls.should_rate_limit():
            raise RdError(429, "Limite de requisições excedido.", {"Retry-After": "60"})
        if controls.should_fail():
            raise RdError(503, "Serviço indisponível, tente novamente.")

    async def listing(self, request: Request) -> JSONResponse:
        name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        await self.admit(request, f"GET /api/v1/{name}")
        query = request.query_params
        try:
            page, limit = int(query.get("page", "1")), int(query.get("limit", "20"))
        except ValueError:
            raise RdError(400, "page e limit devem ser números.") from None
        if page < 1 or not 1 <= limit <= 200:
            raise RdError(400, "limit deve estar entre 1 e 200.")
        if (page - 1) * limit >= LISTING_CAP:
            raise RdError(400, f"A listagem vai até {LISTING_CAP} registros.")
        listed = [fields for _, fields in self.data.live(name, self.controls.clock.now())]
        if name == "tasks" and query.get("type"):
            listed = [t for t in listed if t["type"] == query["type"]]
        reachable = listed[:LISTING_CAP]
        chunk = reachable[(page - 1) * limit : page * limit]
        body = {
            "total": len(listed),
            "has_more": page * limit < len(reachable),
            name: [_shown(item) for item in chunk],
        }
        return JSONResponse(body)

    async def users(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v1/users")
        users = [
            {"id": u["id"], "name": u["name"], "email": u["email"], "active": True}
            for u in self.data.users
        ]
        return JSONResponse({"users": users})

    async def teams(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v1/teams")
        teams = [
            {
                "id": t["id"],
                "name": t["name"],
                "team_users": [
                    {"id": u["id"], "name": u["name"]}
                    for u in self.data.users
                    if u["team"] == t["key"]
                ],
            }
            for t in self.data.teams
        ]
        return JSONResponse(teams)

    async def pipelines(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v1/deal_pipelines")
        pipelines = [
            {
                "id": p["id"],
                "name": p["name"],
                "deal_stages": [
                    {"id": s["id"], "name": s["name"], "nickname": s["nickname"], "order": i + 1}
                    for i, s in enumerate(p["stages"])
                ],
            }
            for p in self.data.pipelines
        ]
        return JSONResponse(pipelines)


def _shown(fields: dict[str, Any]) -> dict[str, Any]:
    return {"_id": fields["id"], **fields}


def create_app(data: RdCrmData, controls: SandboxControls) -> Starlette:
    api = RdCrmApp(data, controls)

    def guarded(handler: Any) -> Any:
        async def route(request: Request) -> JSONResponse:
            try:
                return await handler(request)
            except RdError as exc:
                return exc.response()

        return route

    app = Starlette(
        routes=[
            Route("/api/v1/deals", guarded(api.listing)),
            Route("/api/v1/tasks", guarded(api.listing)),
            Route("/api/v1/users", guarded(api.users)),
            Route("/api/v1/teams", guarded(api.teams)),
            Route("/api/v1/deal_pipelines", guarded(api.pipelines)),
        ]
    )
    app.state.api = api
    return app
