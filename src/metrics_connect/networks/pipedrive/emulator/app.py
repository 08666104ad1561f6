"""The Pipedrive API as the sandbox serves it (docs/networks/pipedrive.md):

- the company domain (`https://{company}.pipedrive.com`, the OAuth token's `api_domain`)
  with `Authorization: Bearer <access token>`;
- `GET /api/v2/deals` and `GET /api/v2/activities`: `updated_since` (RFC 3339),
  `limit` (at most 500, default 100), `cursor` / `additional_data.next_cursor`, sorted by
  `update_time` when `updated_since` is given (else by id); deals filter by `status`
  (comma-separated; omitted: every not deleted deal; `deleted`: those deleted in the last
  30 days); activities deleted in the last 30 days are listed with `is_deleted: true`;
- `GET /api/v1/leads`: `start`/`limit` (at most 500), `archived_status`
  (`archived`, `not_archived`, `all`), `additional_data.pagination`; deleted leads are
  gone from the listing;
- `GET /api/v1/mailbox/mailThreads`: the token user's threads of a `folder` (required:
  inbox, drafts, sent, archive), `start`/`limit`, newest first;
- `GET /api/v2/pipelines`, `GET /api/v2/stages`, `GET /api/v1/users`, `GET /api/v1/users/me`;
- errors `{"success": false, "error", "errorCode"}`: 401 for a missing, expired or revoked
  token, 400 for bad paging, 429 past the 2-second burst limit (`x-ratelimit-*`,
  `Retry-After`) or when the company's daily token budget is spent (each call costs
  tokens: 10 a v2 listing, 20 a v1 one; `daily_budget`, off by default).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.pipedrive.emulator.data import PipedriveData
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.records import Fields, TimedRecord

MAX_LIMIT = 500
DELETED_KEPT = timedelta(days=30)
# Token costs of Pipedrive's daily budget: a v2 listing is cheaper than its v1 one.
COST = {"api/v2": 10, "api/v1": 20}


class PipedriveError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}

    def response(self) -> JSONResponse:
        body = {"success": False, "error": self.message, "errorCode": self.status}
        return JSONResponse(body, self.status, headers=self.headers)


_TOKEN_ERRORS = {
    TokenFault.MISSING: "unauthorized access",
    TokenFault.FOREIGN: "unauthorized access",
    TokenFault.EXPIRED: "access token expired",
    TokenFault.REVOKED: "invalid token: the token has been revoked",
}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else None


def _instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PipedriveError(400, f"Invalid date format: {text}") from None


def _limit(raw: str | None, default: int = 100) -> int:
    try:
        limit = int(raw) if raw else default
    except ValueError:
        raise PipedriveError(400, "limit must be an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise PipedriveError(400, f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _shown(record: TimedRecord, fields: Fields) -> Fields:
    shown = {**fields, "id": record.id if record.object == "leads" else int(record.id)}
    if record.object != "leads":  # v2 writes whole seconds; v1 leads keep milliseconds
        for key in ("add_time", "update_time"):
            shown[key] = str(fields[key])[:19] + "Z"
    return shown


class PipedriveApp:
    def __init__(self, data: PipedriveData, controls: SandboxControls) -> None:
        self.data, self.controls = data, controls
        # The company's daily token budget (None: unlimited, as the demo replays years).
        self.daily_budget: int | None = None
        self.spent: dict[str, int] = {}

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(_bearer(request))
        if fault is not None:
            raise PipedriveError(401, _TOKEN_ERRORS[fault])
        if self.daily_budget is not None:
            day = controls.clock.now().date().isoformat()
            cost = COST[endpoint.split(" ")[1][1:7]]
            if self.spent.get(day, 0) + cost > self.daily_budget:
                left = {"x-daily-requests-left": "0", "Retry-After": "3600"}
                raise PipedriveError(429, "Daily API token budget exceeded", left)
            self.spent[day] = self.spent.get(day, 0) + cost
        if controls.should_rate_limit():
            wait = str(controls.switches.retry_after_seconds)
            headers = {
                "Retry-After": wait,
                "x-ratelimit-limit": "80",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": wait,
            }
            raise PipedriveError(429, "Request over limit", headers)
        if controls.should_fail():
            raise PipedriveError(503, "Service unavailable, please try again later")

    def _cursor_page(
        self, request: Request, found: list[tuple[TimedRecord, Fields]]
    ) -> JSONResponse:
        query = request.query_params
        limit = _limit(query.get("limit"))
        offset = 0
        if query.get("cursor"):
            try:
                offset = int(json.loads(base64.b64decode(query["cursor"]))["offset"])
            except (ValueError, KeyError, TypeError):
                raise PipedriveError(400, "Invalid cursor") from None
        chunk = found[offset : offset + limit]
        after = offset + limit
        cursor = base64.b64encode(json.dumps({"offset": after}).encode()).decode()
        more = after < len(found)
        return JSONResponse(
            {
                "success": True,
                "data": [_shown(r, f) for r, f in chunk],
                "additional_data": {"next_cursor": cursor if more else None},
            }
        )

    def _changed(
        self, name: str, request: Request, with_deleted: bool
    ) -> list[tuple[TimedRecord, Fields]]:
        """Live (and, asked, recently deleted) records, by update_time since a point."""
        now = self.controls.clock.now()
        since_text = request.query_params.get("updated_since")
        found = list(self.data.live(name, now))
        if with_deleted:
            found += [
                (r, f)
                for r, f in self.data.archived(name, now)
                if r.archived_at is not None and r.archived_at >= now - DELETED_KEPT
            ]
        if since_text:
            since = _instant(since_text)
            found = [(r, f) for r, f in found if r.modified(now) >= since]
            found.sort(key=lambda item: (item[0].modified(now), int(item[0].id)))
        else:
            found.sort(key=lambda item: int(item[0].id))
        return found

    async def deals(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v2/deals")
        raw = request.query_params.get("status")
        statuses = set(raw.split(",")) if raw else {"open", "won", "lost"}
        if not statuses <= {"open", "won", "lost", "deleted"}:
            raise PipedriveError(400, f"Invalid status: {raw}")
        found = self._changed("deals", request, with_deleted="deleted" in statuses)
        found = [(r, f) for r, f in found if f["status"] in statuses]
        return self._cursor_page(request, found)

    async def activities(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v2/activities")
        found = self._changed("activities", request, with_deleted=True)
        done = request.query_params.get("done")
        if done in ("true", "false", "1", "0"):
            found = [(r, f) for r, f in found if f["done"] is (done in ("true", "1"))]
        return self._cursor_page(request, found)

    async def leads(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v1/leads")
        archived = request.query_params.get("archived_status", "not_archived")
        if archived not in ("archived", "not_archived", "all"):
            raise PipedriveError(400, f"Invalid archived_status: {archived}")
        found = self.data.live("leads", self.controls.clock.now())
        if archived != "all":
            found = [(r, f) for r, f in found if f["is_archived"] is (archived == "archived")]
        return self._offset_page(request, found)

    def _offset_page(
        self, request: Request, found: list[tuple[TimedRecord, Fields]]
    ) -> JSONResponse:
        """v1's `start`/`limit` paging with `additional_data.pagination`."""
        try:
            start = int(request.query_params.get("start", "0"))
        except ValueError:
            raise PipedriveError(400, "start must be an integer") from None
        limit = _limit(request.query_params.get("limit"))
        chunk = found[start : start + limit]
        more = start + limit < len(found)
        pagination = {"start": start, "limit": limit, "more_items_in_collection": more}
        if more:
            pagination["next_start"] = start + limit
        return JSONResponse(
            {
                "success": True,
                "data": [_shown(r, f) for r, f in chunk],
                "additional_data": {"pagination": pagination},
            }
        )

    async def mail_threads(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v1/mailbox/mailThreads")
        folder = request.query_params.get("folder")
        if folder not in ("inbox", "drafts", "sent", "archive"):
            raise PipedriveError(400, "folder is required: inbox, drafts, sent or archive")
        found = self.data.live("mail_threads", self.controls.clock.now())
        found = [(r, f) for r, f in reversed(found) if folder in f["folders"]]
        return self._offset_page(request, found)

    async def pipelines(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v2/pipelines")
        data = [
            {"id": p["id"], "name": p["name"], "order_nr": i + 1, "is_deleted": False}
            for i, p in enumerate(self.data.pipelines)
        ]
        return JSONResponse({"success": True, "data": data, "additional_data": {}})

    async def stages(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v2/stages")
        data = [
            {
                "id": s["id"],
                "name": s["name"],
                "pipeline_id": p["id"],
                "order_nr": i + 1,
                "is_deleted": False,
            }
            for p in self.data.pipelines
            for i, s in enumerate(p["stages"])
        ]
        return JSONResponse({"success": True, "data": data, "additional_data": {}})

    async def users(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v1/users")
        data = [{**u, "active_flag": True} for u in self.data.users]
        return JSONResponse({"success": True, "data": data})

    async def me(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /api/v1/users/me")
        company = self.data.company
        me = {
            **self.data.users[0],
            "company_id": company["id"],
            "company_name": company["name"],
            "company_domain": company["domain"],
            "timezone_name": company["timezone"],
            "default_currency": company["currency"],
        }
        return JSONResponse({"success": True, "data": me})


def create_app(data: PipedriveData, controls: SandboxControls) -> Starlette:
    api = PipedriveApp(data, controls)

    def guarded(handler: Any) -> Any:
        async def route(request: Request) -> JSONResponse:
            try:
                return await handler(request)
            except PipedriveError as exc:
                return exc.response()

        return route

    app = Starlette(
        routes=[
            Route("/api/v2/deals", guarded(api.deals)),
            Route("/api/v2/activities", guarded(api.activities)),
            Route("/api/v2/pipelines", guarded(api.pipelines)),
            Route("/api/v2/stages", guarded(api.stages)),
            Route("/api/v1/leads", guarded(api.leads)),
            Route("/api/v1/mailbox/mailThreads", guarded(api.mail_threads)),
            Route("/api/v1/users", guarded(api.users)),
            Route("/api/v1/users/me", guarded(api.me)),
        ]
    )
    app.state.api = api
    return app
