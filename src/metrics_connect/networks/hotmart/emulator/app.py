"""The Hotmart Payments API as the sandbox serves it (docs/networks/hotmart.md):

- `GET /payments/api/v1/sales/history`: purchases ordered in [`start_date`, `end_date`]
  (milliseconds since the epoch), `transaction_status` (one status; without it and
  without `transaction`, only APPROVED and COMPLETE), `product_id`, `transaction`,
  `buyer_email`, `payment_type`, `sales_source`; `max_results` (at most 500) and
  `page_token` paging (`page_info.next_page_token`, a base64 `{"rows", "page"}`).
- `GET /payments/api/v1/sales/summary`: per currency, the purchases' count and total
  value for the same filters; `GET /payments/api/v1/sales/commissions`: the producer's
  commission (price less Hotmart's fee) per purchase.
- Bearer tokens (from the client-credentials token endpoint); errors
  `{"error", "error_description"}` (invalid_token, token_expired, unauthorized_client,
  invalid_parameter, invalid_value_parameter, too_many_requests with `RateLimit-*`
  headers, internal_server_error).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.hotmart.emulator.data import SalesData
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.json_rest import credential

MAX_RESULTS = 500
PER_MINUTE = 500  # Hotmart's documented rate limit
DEFAULT_STATUSES = ("APPROVED", "COMPLETE")
STATUSES = frozenset(
    "APPROVED BLOCKED CANCELLED CHARGEBACK COMPLETE EXPIRED NO_FUNDS OVERDUE PARTIALLY_REFUNDED"
    " PRE_ORDER PRINTED_BILLET PROCESSING_TRANSACTION PROTESTED REFUNDED STARTED UNDER_ANALISYS"
    " WAITING_PAYMENT".split()
)
# What a listing filters on: the query parameter and the purchase's field.
FILTERS = {
    "product_id": "product_id",
    "transaction": "transaction",
    "buyer_email": "buyer",
    "payment_type": "payment_type",
    "sales_source": "source",
}


class HotmartError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def response(self) -> JSONResponse:
        headers = {"RateLimit-Reset": "42"} if self.status == 429 else {}
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers=headers,
        )


_TOKEN_ERRORS = {
    TokenFault.MISSING: (401, "unauthorized", "Full authentication is required."),
    TokenFault.FOREIGN: (401, "invalid_token", "Invalid access token."),
    TokenFault.EXPIRED: (401, "token_expired", "Access token expired."),
    TokenFault.REVOKED: (403, "unauthorized_client", "The client is not allowed this resource."),
}


def _number(query: Any, name: str) -> int | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    if not str(raw).isdigit():
        raise HotmartError(400, "invalid_value_parameter", f"The {name} parameter is invalid")
    return int(raw)


def _instant(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


class HotmartApp:
    def __init__(self, data: SalesData, controls: SandboxControls) -> None:
        self.data = data
        self.controls = controls
        self.windows: dict[tuple[datetime, datetime, datetime], list[dict[str, Any]]] = {}

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(PER_MINUTE),
            "RateLimit-Remaining": str(PER_MINUTE - 1),
            "RateLimit-Reset": "60",
        }

    async def admit(self, request: Request, endpoint: str) -> None:
        self.controls.calls.record(endpoint)
        await self.controls.apply_latency()
        fault = self.controls.token_fault(credential(request))
        if fault is not None:
            raise HotmartError(*_TOKEN_ERRORS[fault])
        if self.controls.should_rate_limit():
            raise HotmartError(429, "too_many_requests", "Rate limit exceeded.")
        if self.controls.should_fail():
            raise HotmartError(503, "internal_server_error", "API unavailable.")

    def selected(self, request: Request) -> list[dict[str, Any]]:
        """The purchases a sales endpoint's filters select, at the emulator's clock."""
        query = request.query_params
        now = self.controls.clock.now()
        start, end = _number(query, "start_date"), _number(query, "end_date")
        first = _instant(start) if start is not None else now - timedelta(days=30)
        last = _instant(end) if end is not None else now
        status = query.get("transaction_status")
        if status and status not in STATUSES:
            raise HotmartError(400, "invalid_parameter", "The transaction_status is invalid")
        wanted: tuple[str, ...] = (status,) if status else DEFAULT_STATUSES
        if query.get("transaction") and not status:
            wanted = tuple(STATUSES)
        found = [p for p in self._window(first, last, now) if p["status"] in wanted]
        for name, field in FILTERS.items():
            if query.get(name):
                found = [p for p in found if str(p.get(field)) == query[name]]
        return found

    def _window(self, first: datetime, last: datetime, now: datetime) -> list[dict[str, Any]]:
        """The purchases of a date window at the clock, kept while the clock stands (a
        client asks the same window once per status and page)."""
        key = (first, last, now)
        if key not in self.windows:
            self.windows = {key: self.data.window(first, last, now)}
        return self.windows[key]

    def page(self, request: Request, items: list[Any]) -> tuple[list[Any], dict[str, Any]]:
        query = request.query_params
        size = _number(query, "max_results") or 10
        if size > MAX_RESULTS:
            raise HotmartError(400, "invalid_value_parameter", "max_results is too large")
        index = 1
        if query.get("page_token"):
            try:
                index = int(json.loads(base64.b64decode(query["page_token"]))["page"])
            except (ValueError, KeyError, TypeError):
                raise HotmartError(
                    400, "invalid_token", "The page_token parameter is invalid"
                ) from None
        chosen = items[(index - 1) * size : index * size]
        info: dict[str, Any] = {"total_results": len(items), "results_per_page": size}
        if index * size < len(items):
            info["next_page_token"] = _token(size, index + 1)
        if index > 1:
            info["prev_page_token"] = _token(size, index - 1)
        return chosen, info

    async def history(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /payments/api/v1/sales/history")
        found = sorted(self.selected(request), key=lambda p: (-p["order_date"], p["transaction"]))
        chosen, info = self.page(request, found)
        items = [self._sale(p) for p in chosen]
        return JSONResponse({"items": items, "page_info": info}, headers=self.headers())

    async def summary(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /payments/api/v1/sales/summary")
        totals: dict[str, list[float]] = {}
        for purchase in self.selected(request):
            count_value = totals.setdefault(purchase["currency"], [0, 0.0])
            count_value[0] += 1
            count_value[1] += purchase["price"]
        items = [
            {"total_items": int(c), "total_value": {"value": round(v, 2), "currency_code": cur}}
            for cur, (c, v) in sorted(totals.items())
        ]
        chosen, info = self.page(request, items)
        return JSONResponse({"items": chosen, "page_info": info}, headers=self.headers())

    async def commissions(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /payments/api/v1/sales/commissions")
        found = sorted(self.selected(request), key=lambda p: (-p["order_date"], p["transaction"]))
        chosen, info = self.page(request, found)
        producer = self.data.producer
        items = [
            {
                "transaction": p["transaction"],
                "product": {"id": p["product_id"], "name": p["product_name"]},
                "exchange_rate_currency_payout": 1.0,
                "commissions": [
                    {
                        "commission": {
                            "value": round(p["price"] - p["fee"], 2),
                            "currency_value": p["currency"],
                        },
                        "user": {"ucode": producer["ucode"], "name": producer["name"]},
                        "source": "PRODUCER",
                    }
                ],
            }
            for p in chosen
        ]
        return JSONResponse({"items": items, "page_info": info}, headers=self.headers())

    def _sale(self, p: dict[str, Any]) -> dict[str, Any]:
        producer = self.data.producer
        return {
            "product": {"name": p["product_name"], "id": p["product_id"]},
            "buyer": {"name": p["buyer"].split("@")[0], "email": p["buyer"], "ucode": p["buyer"]},
            "producer": {"name": producer["name"], "ucode": producer["ucode"]},
            "purchase": {
                "transaction": p["transaction"],
                "order_date": p["order_date"],
                "approved_date": p["approved_date"],
                "status": p["status"],
                "recurrency_number": 1,
                "is_subscription": False,
                "commission_as": "PRODUCER",
                "price": {"value": p["price"], "currency_code": p["currency"]},
                "payment": {
                    "method": p["payment_type"],
                    "installments_number": p["installments"],
                    "type": p["payment_type"],
                },
                "tracking": {"source": p["source"], "source_sck": "HOTMART_PRODUCT_PAGE"},
                "warranty_expire_date": p.get("warranty_expire_date"),
                "offer": {"payment_mode": "UNIQUE_PAYMENT", "code": p["offer_code"]},
                "hotmart_fee": {
                    "total": p["fee"],
                    "currency_code": p["currency"],
                    "percentage": self.data.spec["hotmart_fee_percentage"],
                },
            },
        }


def _token(rows: int, page: int) -> str:
    return base64.b64encode(json.dumps({"rows": rows, "page": page}).encode()).decode()


def create_app(data: SalesData, controls: SandboxControls) -> Starlette:
    api = HotmartApp(data, controls)

    def guarded(handler: Any) -> Any:
        async def run(request: Request) -> JSONResponse:
            try:
                response: JSONResponse = await handler(request)
                return response
            except HotmartError as exc:
                return exc.response()

        return run

    base = "/payments/api/v1/sales"
    app = Starlette(
        routes=[
            Route(f"{base}/history", guarded(api.history)),
            Route(f"{base}/summary", guarded(api.summary)),
            Route(f"{base}/commissions", guarded(api.commissions)),
        ]
    )
    app.state.api = api
    return app
