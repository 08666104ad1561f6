"""The Nuvemshop (Tiendanube) API as the sandbox serves it (docs/networks/nuvem_shop.md):

- `GET /{version}/{store_id}/orders` (version `2025-03`, and the older `v1`):
  `created_at_min`/`_max`, `updated_at_min`/`_max` (ISO 8601), `status`
  (`any`, open, closed, cancelled), `payment_status` (`any` = authorized, pending and
  paid, as documented, or one of authorized, pending, paid, abandoned, refunded,
  voided), `since_id`, `page` (1-based) and `per_page` (30 by default, at most 200),
  newest first; `X-Total-Count` and an RFC 8288 `Link` header (next, last...); a page
  past the last is a 404 "Last page is N".
- `GET .../checkouts` (abandoned checkouts: `since_id`, `created_at_max`, paging),
  `GET .../coupons` (`valid`, paging), `GET .../store`.
- `Authentication: bearer <token>` (sic) and a `User-Agent` on every call (without it:
  400); errors `{"code", "message", "description"}`; the leaky bucket's
  `X-Rate-Limit-Limit` (40), `-Remaining` and `-Reset` (milliseconds) on every answer.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.nuvem_shop.emulator.data import StoreData
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.paging import page_number_page
from metrics_connect.sandbox.kit.params import instant_param, int_param
from metrics_connect.sandbox.kit.records import Listings

VERSIONS = ("2025-03", "v1")
BUCKET_SIZE = 40  # requests; leaks 2 a second
LEAK_PER_SECOND = 2.0
MAX_PER_PAGE = 200
PAYMENT_STATUSES = ("authorized", "pending", "paid", "abandoned", "refunded", "voided")
ANY_PAYMENT = ("authorized", "pending", "paid")
STATUSES = ("open", "closed", "cancelled")


class NuvemError(Exception):
    def __init__(self, status: int, message: str, description: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.description = status, message, description

    def response(self, headers: dict[str, str]) -> JSONResponse:
        body = {"code": self.status, "message": self.message, "description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


_TOKEN_ERRORS = {
    TokenFault.MISSING: (401, "Unauthorized", "Authentication header is missing."),
    TokenFault.FOREIGN: (401, "Unauthorized", "Invalid access token"),
    # Tokens never expire: a token stops working when the store uninstalls the app.
    TokenFault.EXPIRED: (401, "Unauthorized", "Invalid access token"),
    TokenFault.REVOKED: (403, "Forbidden", "This app has no permission for this resource."),
}


def _token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authentication", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class NuvemApp:
    def __init__(self, data: StoreData, controls: SandboxControls) -> None:
        self.data = data
        self.controls = controls
        self.enforce_bucket = False  # the demo replays years quickly
        self.level = 0.0
        self.leaked_at = time.monotonic()
        self.listings: Listings[list[dict[str, Any]]] = Listings()

    def headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(BUCKET_SIZE),
            "X-Rate-Limit-Remaining": str(max(0, int(BUCKET_SIZE - self.level))),
            "X-Rate-Limit-Reset": str(int(self.level / LEAK_PER_SECOND * 1000)),
        }

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        if request.path_params.get("version") not in VERSIONS:
            raise NuvemError(404, "Not Found", "Unknown API version.")
        if not request.headers.get("user-agent"):
            raise NuvemError(400, "Bad Request", "A User-Agent header is required.")
        fault = controls.token_fault(_token(request))
        if fault is not None:
            raise NuvemError(*_TOKEN_ERRORS[fault])
        if str(request.path_params.get("store_id")) != str(self.data.store["id"]):
            raise NuvemError(401, "Unauthorized", "Invalid access token")
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.leaked_at) * LEAK_PER_SECOND)
        self.leaked_at = now
        full = self.enforce_bucket and self.level + 1 > BUCKET_SIZE
        if full or controls.should_rate_limit():
            raise NuvemError(429, "Too Many Requests", "Too many requests: slow down.")
        self.level = min(float(BUCKET_SIZE), self.level + 1)
        if controls.should_fail():
            raise NuvemError(503, "Service Unavailable", "Service temporarily unavailable.")

    def now(self) -> datetime:
        return self.controls.clock.now()

    def page(self, request: Request, items: list[dict[str, Any]]) -> JSONResponse:
        query = request.query_params
        per_page = _int(query.get("per_page"), 30)
        page = _int(query.get("page"), 1)
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise NuvemError(422, "Unprocessable Entity", {"per_page": ["must be 1 to 200"]})
        last = max(1, -(-len(items) // per_page))
        if page < 1 or page > last:
            raise NuvemError(404, "Not Found", f"Last page is {last}")
        params = {k: v for k, v in query.items() if k not in ("page", "per_page")}
        body, links = page_number_page(
            items, page, per_page, str(request.url).split("?")[0], params
        )
        headers = {**self.headers(), **links, "X-Total-Count": str(len(items))}
        return JSONResponse(body["data"], headers=headers)

    # --- routes ---

    async def orders(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /orders")
        query = request.query_params
        key = str(sorted((k, v) for k, v in query.items() if k not in ("page", "per_page")))
        return self.page(request, self.listings.get((key, self.now()), lambda: self._orders(query)))

    def _orders(self, query: Any) -> list[dict[str, Any]]:
        now = self.now()
        payment = query.get("payment_status", "any")
        status = query.get("status", "any")
        if payment != "any" and payment not in PAYMENT_STATUSES:
            raise NuvemError(422, "Unprocessable Entity", {"payment_status": ["is invalid"]})
        if status != "any" and status not in STATUSES:
            raise NuvemError(422, "Unprocessable Entity", {"status": ["is invalid"]})
        payments = ANY_PAYMENT if payment == "any" else (payment,)
        bounds = {name: _instant(query, name) for name in _DATE_PARAMS}
        since_id = _int(query.get("since_id"), 0)
        found = []
        for order in reversed(self.data.orders_at(now)):
            created = _within(order.created, bounds["created_at_min"], bounds["created_at_max"])
            if order.id <= since_id or not created:
                continue
            if not _within(order.updated(now), bounds["updated_at_min"], bounds["updated_at_max"]):
                continue
            fields = order.state(now)
            if fields["payment_status"] in payments and status in ("any", fields["status"]):
                found.append(fields)
        return found

    async def checkouts(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /checkouts")
        query = request.query_params
        before = _instant(query, "created_at_max")
        since_id = _int(query.get("since_id"), 0)
        listed = [
            c.fields
            for c in reversed(self.data.checkouts_at(self.now()))
            if c.id > since_id and _within(c.created, None, before)
        ]
        return self.page(request, listed)

    async def coupons(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /coupons")
        valid = request.query_params.get("valid")
        listed = [
            c
            for c in self.data.coupons_at(self.now())
            if valid is None or str(c["valid"]).lower() == valid.lower()
        ]
        return self.page(request, listed)

    async def store(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /store")
        store = {k: v for k, v in self.data.store.items() if k != "timezone"}
        return JSONResponse(store, headers=self.headers())


_DATE_PARAMS = ("created_at_min", "created_at_max", "updated_at_min", "updated_at_max")


def _instant(query: Any, name: str) -> datetime | None:
    invalid = {name: ["is not a valid ISO 8601 date"]}
    return instant_param(
        query.get(name), lambda _: NuvemError(422, "Unprocessable Entity", invalid)
    )


def _within(at: datetime, low: datetime | None, high: datetime | None) -> bool:
    return (low is None or at >= low) and (high is None or at <= high)


def _int(value: Any, default: int) -> int:
    return int_param(
        value, default, lambda v: NuvemError(400, "Bad Request", f"{v!r} is not a number.")
    )


def create_app(data: StoreData, controls: SandboxControls) -> Starlette:
    api = NuvemApp(data, controls)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Any:
            try:
                return await handler(request)
            except NuvemError as exc:
                return exc.response(api.headers())

        return endpoint

    routes = [
        Route("/{version}/{store_id}/orders", guarded(api.orders), methods=["GET"]),
        Route("/{version}/{store_id}/checkouts", guarded(api.checkouts), methods=["GET"]),
        Route("/{version}/{store_id}/coupons", guarded(api.coupons), methods=["GET"]),
        Route("/{version}/{store_id}/store", guarded(api.store), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.api = api
    return app
