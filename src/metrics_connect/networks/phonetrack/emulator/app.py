"""PhoneTrack's API v3 as the sandbox serves it (docs/networks/phonetrack.md, where every
assumption beyond the public evidence is listed):

- `https://api.phonetrack.app/api/v3/...` with the account's API token as the raw
  `Authorization` header value (no scheme);
- `GET /accounts`: the accounts the token reaches, `{"rows", "total"}`;
  `GET /accounts/{id}`: one, `{"row"}`;
- `GET /accounts/{id}/call-logs`: `date_start` and `date_end` (`Y-m-d H:i:s` in the
  account's zone, both required, at most 31 days apart, no older than the 365 days the log
  answers), `page` (from 1), `limit` (1 to 200, 50 by default); the call log entries whose
  start falls in the span, by start, deleted ones with their `deleted_at`:
  `{"rows", "total", "page", "limit", "last_page"}`;
- errors `{"message"}` (Laravel's): 401 `Unauthenticated.` for a missing or unknown
  token, 403 for an account the token may not read, 404, 422 with `errors` per field,
  429 `Too Many Attempts.` past 60 calls a minute (Retry-After, X-RateLimit-*), 503.
"""

from __future__ import annotations

import math
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.phonetrack.emulator.data import PhoneTrackData
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault

API = "/api/v3"
PER_MINUTE = 60
MAX_SPAN = timedelta(days=31)
WALL = "%Y-%m-%d %H:%M:%S"


class PhoneTrackError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.errors, self.headers = errors, headers or {}

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return JSONResponse(body, self.status, headers=self.headers)


def invalid(field: str, message: str) -> PhoneTrackError:
    return PhoneTrackError(422, message, {field: [message]})


class PhoneTrackApp:
    def __init__(self, data: PhoneTrackData, controls: SandboxControls) -> None:
        self.data, self.controls = data, controls
        self.window: deque[float] = deque()
        self.enforce_minute = False  # off by default: the demo replays years quickly

    def account_row(self) -> dict[str, Any]:
        account = self.data.account
        return {
            "id": account["id"],
            "uuid": account["uuid"],
            "name": account["name"],
            "timezone": account["timezone"],
            "active": True,
        }

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(request.headers.get("authorization"))
        if fault is TokenFault.REVOKED:
            raise PhoneTrackError(403, "This action is unauthorized.")
        if fault is not None:
            raise PhoneTrackError(401, "Unauthenticated.")
        now = time.monotonic()
        self.window.append(now)
        while self.window and self.window[0] < now - 60:
            self.window.popleft()
        over = self.enforce_minute and len(self.window) > PER_MINUTE
        if over or controls.should_rate_limit():
            wait = str(controls.switches.retry_after_seconds)
            headers = {"Retry-After": wait, "X-RateLimit-Limit": str(PER_MINUTE)}
            raise PhoneTrackError(
                429, "Too Many Attempts.", headers=headers | {"X-RateLimit-Remaining": "0"}
            )
        if controls.should_fail():
            raise PhoneTrackError(503, "Service Unavailable")

    def account_of(self, request: Request) -> None:
        if request.path_params["account_id"] != self.data.account["id"]:
            raise PhoneTrackError(403, "This action is unauthorized.")

    async def accounts(self, request: Request) -> JSONResponse:
        await self.admit(request, f"GET {API}/accounts")
        return JSONResponse({"rows": [self.account_row()], "total": 1})

    async def account(self, request: Request) -> JSONResponse:
        await self.admit(request, f"GET {API}/accounts/{{id}}")
        self.account_of(request)
        return JSONResponse({"row": self.account_row()})

    def wall(self, query: Any, name: str) -> datetime:
        text = query.get(name)
        if not text:
            raise invalid(name, f"The {name.replace('_', ' ')} field is required.")
        try:
            wall = datetime.strptime(text, WALL)
        except ValueError:
            raise invalid(
                name, f"The {name.replace('_', ' ')} does not match the format Y-m-d H:i:s."
            ) from None
        return wall.replace(tzinfo=self.data.zone)

    async def call_logs(self, request: Request) -> JSONResponse:
        await self.admit(request, f"GET {API}/accounts/{{id}}/call-logs")
        self.account_of(request)
        query = request.query_params
        first, last = self.wall(query, "date_start"), self.wall(query, "date_end")
        if last < first:
            raise invalid("date_end", "The date end must be a date after or equal to date start.")
        if last - first > MAX_SPAN:
            raise invalid(
                "date_end", "The period between date start and date end may not exceed 31 days."
            )
        now = self.controls.clock.now()
        kept = self.data.spec["kept_days"]
        if first < (now - timedelta(days=kept)).astimezone(self.data.zone).replace(
            hour=0, minute=0, second=0, microsecond=0
        ):
            raise invalid("date_start", f"The call log answers the last {kept} days only.")
        try:
            page, limit = int(query.get("page", "1")), int(query.get("limit", "50"))
        except ValueError:
            raise invalid("page", "The page and limit must be integers.") from None
        if page < 1 or not 1 <= limit <= 200:
            raise invalid("limit", "The limit must be between 1 and 200.")
        rows = self.data.calls_between(first, last, now)
        body = {
            "rows": rows[(page - 1) * limit : page * limit],
            "total": len(rows),
            "page": page,
            "limit": limit,
            "last_page": max(1, math.ceil(len(rows) / limit)),
        }
        return JSONResponse(body)


def create_app(data: PhoneTrackData, controls: SandboxControls) -> Starlette:
    api = PhoneTrackApp(data, controls)

    def guarded(handler: Any) -> Any:
        async def route(request: Request) -> JSONResponse:
            try:
                return await handler(request)
            except PhoneTrackError as exc:
                return exc.response()

        return route

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"message": "Not Found."}, 404)

    app = Starlette(
        routes=[
            Route(f"{API}/accounts", guarded(api.accounts)),
            Route(f"{API}/accounts/{{account_id:int}}", guarded(api.account)),
            Route(f"{API}/accounts/{{account_id:int}}/call-logs", guarded(api.call_logs)),
        ],
        exception_handlers={404: not_found},
    )
    app.state.api = api
    return app
