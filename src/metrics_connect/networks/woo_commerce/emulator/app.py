"""The WooCommerce REST API (wc/v3) of the sandbox store (docs/networks/woo_commerce.md):

- `GET /wp-json/wc/v3/orders`: `page`, `per_page` (1-100), `after`/`before` (created),
  `modified_after`/`modified_before`, site time unless `dates_are_gmt=true`, `status`
  (a comma list; `any`, the default, leaves out `trash`), `customer`, `orderby`
  (date, id, include), `order`; `X-WP-Total`, `X-WP-TotalPages` and `Link` headers.
- `GET /wp-json/wc/v3/refunds` (9.0+: every refund, `after`/`before` on its date),
  `/orders/{id}`, `/orders/{id}/refunds`, `/products` (`stock_status`),
  `/customers`, `/coupons`, `/taxes`, `/system_status`, and `GET /wp-json/` (the site's
  `timezone_string` and `gmt_offset`).
- Consumer key and secret by HTTP Basic or as `consumer_key`/`consumer_secret` query
  parameters; errors `{"code", "message", "data": {"status"}}` (WP_Error).
"""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.woo_commerce.emulator.data import (
    Order,
    Refund,
    StoreData,
    money,
)
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.records import Listings

API = "/wp-json/wc/v3"
ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
)


class WooError(Exception):
    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def response(self) -> JSONResponse:
        data: dict[str, Any] = {"status": self.status, **self.data}
        body = {"code": self.code, "message": self.message, "data": data}
        wait = self.data.get("retry_after")
        headers = {"Retry-After": str(wait)} if wait is not None else None
        return JSONResponse(body, status_code=self.status, headers=headers)


class WooApp:
    def __init__(self, data: StoreData, controls: SandboxControls) -> None:
        self.data = data
        self.controls = controls
        self.keys = {k["consumer_key"]: k for k in data.spec["keys"]}
        # A listing's matches while the clock stands (its next pages): key -> orders.
        self.listings: Listings[list[tuple[Order, str]]] = Listings()

    def now(self) -> datetime:
        return self.controls.clock.now()

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        key, secret = _credentials(request)
        if not key:
            raise WooError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        found = self.keys.get(key)
        if found is None or key in controls.switches.revoked_tokens:
            raise WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if secret != found["consumer_secret"]:
            raise WooError(
                401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."
            )
        if found["permissions"] == "write":
            raise WooError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if controls.should_rate_limit():
            # WooCommerce itself has no REST limit; hosts and security plugins answer 429.
            raise WooError(
                429,
                "rest_too_many_requests",
                "Too many requests.",
                retry_after=controls.switches.retry_after_seconds,
            )
        if controls.should_fail():
            raise WooError(500, "internal_server_error", "There has been a critical error.")

    # --- routes ---

    async def index(self, request: Request) -> JSONResponse:
        return JSONResponse(self.data.site)

    async def orders(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /orders")
        query = request.query_params
        now = self.now()
        statuses = _statuses(query.get("status", "any"))
        bounds = self._bounds(query, "after", "before", "modified_after", "modified_before")
        customer = query.get("customer")
        orderby = query.get("orderby", "date")
        if orderby not in ("date", "id", "include", "title", "slug"):
            raise _invalid("orderby", "orderby is not one of date, id, include, title, slug.")
        descending = query.get("order", "desc").lower() == "desc"
        key = (now, tuple(sorted(statuses)), tuple(bounds.values()), customer, orderby, descending)

        def matching() -> list[tuple[Order, str]]:
            found = self._matching(now, statuses, bounds, customer)
            by_date = orderby == "date"
            found.sort(
                key=lambda pair: pair[0].created if by_date else pair[0].id, reverse=descending
            )
            return found

        found = self.listings.get(key, matching)
        return self._listing(request, found, lambda pair: self.order_json(pair[0], pair[1], now))

    def _matching(
        self,
        now: datetime,
        statuses: set[str],
        bounds: dict[str, datetime | None],
        customer: str | None,
    ) -> list[tuple[Order, str]]:
        found: list[tuple[Order, str]] = []
        for order in self.data.placed(now):
            status = order.status(now)
            if status is None or status not in statuses:
                continue
            if customer is not None and str(order.customer_id) != customer:
                continue
            if not _between(order.created, bounds["after"], bounds["before"]):
                continue
            modified = order.modified(now)
            if not _between(modified, bounds["modified_after"], bounds["modified_before"]):
                continue
            found.append((order, status))
        return found

    async def order(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /orders/{id}")
        now = self.now()
        order = self._order(request, now)
        return JSONResponse(self.order_json(order, order.status(now) or "", now))

    async def refunds(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /orders/{id}/refunds")
        now = self.now()
        order = self._order(request, now)
        made = sorted((r for r in order.refunds if r.at <= now), key=lambda r: r.at, reverse=True)
        return self._listing(request, made, self.refund_json)

    async def all_refunds(self, request: Request) -> JSONResponse:
        """`GET /refunds` (WooCommerce 9.0+): every order's refunds, `after`/`before` on
        their creation date, `_links.up` naming their order."""
        await self.admit(request, "GET /refunds")
        query = request.query_params
        now = self.now()
        bounds = self._bounds(query, "after", "before")
        made = [r for r in self.data.refunds if r.at <= now and _between(r.at, *bounds.values())]
        descending = query.get("order", "desc").lower() == "desc"
        by_id = query.get("orderby", "date") == "id"
        made.sort(key=lambda r: r.id if by_id else r.at, reverse=descending)
        return self._listing(request, made, self.refund_json)

    def refund_json(self, refund: Refund) -> dict[str, Any]:
        base = f"{self.data.site['url']}{API}/orders/{refund.order_id}"
        return {
            "id": refund.id,
            **self.data.dates("created", refund.at),
            "amount": money(refund.amount),
            "reason": refund.reason,
            "refunded_by": 1,
            "refunded_payment": True,
            "meta_data": [],
            "line_items": [],
            "_links": {
                "self": [{"href": f"{base}/refunds/{refund.id}"}],
                "collection": [{"href": f"{base}/refunds"}],
                "up": [{"href": base}],
            },
        }

    async def products(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /products")
        now = self.now()
        wanted = request.query_params.get("stock_status")
        listed = []
        for product in self.data.spec["products"]:
            out, quantity = self.data.out_of_stock(product["id"], now)
            stock_status = "outofstock" if out else "instock"
            if wanted and wanted != stock_status:
                continue
            category = self.data.categories[product["category"]]
            listed.append(
                {k: product[k] for k in ("id", "name", "sku")}
                | {
                    "slug": product["sku"].lower(),
                    "type": "variable" if product["variations"] else "simple",
                    "status": "publish",
                    "price": money(product["price"]),
                    "regular_price": money(product["price"]),
                    "manage_stock": True,
                    "stock_quantity": quantity,
                    "stock_status": stock_status,
                    "categories": [{k: category[k] for k in ("id", "name", "slug")}],
                    "variations": [product["id"] * 100 + i for i in range(product["variations"])],
                }
            )
        return self._listing(request, listed)

    async def customers(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /customers")
        now = self.now()
        include = {i for i in request.query_params.get("include", "").split(",") if i}
        listed = []
        for customer in self.data.customer_list(now):
            if include and str(customer["id"]) not in include:
                continue
            active = self.data.last_active(customer["id"], now) or customer["created"]
            day = active.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            last = str(int(day.timestamp()))
            place = {"city": customer["city"], "state": customer["state"], "country": "BR"}
            listed.append(
                {k: customer[k] for k in ("id", "email", "first_name", "last_name", "username")}
                | {
                    **self.data.dates("created", customer["created"]),
                    "role": "customer",
                    "billing": {**place, "email": customer["email"]},
                    "shipping": place,
                    "is_paying_customer": customer["id"] in self.data.order_times,
                    # WooCommerce keeps the last visit's day (a timestamp) in user meta.
                    "meta_data": [{"id": customer["id"], "key": "wc_last_active", "value": last}],
                }
            )
        return self._listing(request, listed)

    async def coupons(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /coupons")
        return self._listing(request, self.data.spec["coupons"])

    async def taxes(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /taxes")
        return self._listing(request, self.data.spec["tax_rates"])

    async def system_status(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /system_status")
        return JSONResponse(self.data.spec["system_status"])

    # --- shapes ---

    def order_json(self, order: Order, status: str, now: datetime) -> dict[str, Any]:
        rate = order.rate
        refunds = [r for r in order.refunds if r.at <= now]
        paid = order.first(("processing", "on-hold"), now)
        completed = order.first(("completed",), now)
        lines = []
        for line in order.lines:
            product = self.data.products[line["product_id"]]
            lines.append(
                {
                    "id": line["id"],
                    "name": product["name"],
                    "product_id": product["id"],
                    "quantity": line["quantity"],
                    "subtotal": money(line["subtotal"]),
                    "subtotal_tax": money(line["subtotal"] * float(rate["rate"]) / 100),
                    "total": money(line["total"]),
                    "total_tax": money(line["tax"]),
                    "taxes": [{"id": rate["id"], "total": money(line["tax"]), "subtotal": ""}],
                    "sku": product["sku"],
                    "price": line["price"],
                    **self.data.spec["line_fields"],
                }
            )
        code = f"{rate['country']}-{rate['state'] or ''}-{rate['name']}-{rate['priority']}"
        return {
            "id": order.id,
            **self.data.spec["order_fields"],
            "number": str(order.id),
            "order_key": f"wc_order_{order.id:08x}",
            "version": self.data.spec["system_status"]["environment"]["version"],
            "status": status,
            "currency": self.data.currency,
            **self.data.dates("created", order.created),
            **self.data.dates("modified", order.modified(now)),
            "discount_total": money(order.discount),
            "shipping_total": money(order.shipping),
            "shipping_tax": money(order.shipping_tax),
            "cart_tax": money(order.cart_tax),
            "total": money(order.total),
            "total_tax": money(order.cart_tax + order.shipping_tax),
            "customer_id": order.customer_id,
            "billing": order.billing,
            "shipping": {
                k: order.billing[k] for k in ("first_name", "last_name", "city", "state", "country")
            },
            "payment_method": "bacs" if any(s == "on-hold" for _, s in order.changes) else "stripe",
            **self.data.dates("paid", paid),
            **self.data.dates("completed", completed),
            "line_items": lines,
            "tax_lines": [
                {
                    "id": order.id * 10 + 1,
                    "rate_code": code.replace("--", "-"),
                    "rate_id": rate["id"],
                    "label": rate["name"],
                    "tax_total": money(order.cart_tax),
                    "shipping_tax_total": money(order.shipping_tax),
                    "rate_percent": float(rate["rate"]),
                    "compound": False,
                    "meta_data": [],
                }
            ],
            "shipping_lines": [
                {
                    "id": order.id * 10 + 2,
                    "method_title": "Flat rate",
                    "method_id": "flat_rate",
                    "total": money(order.shipping),
                    "total_tax": money(order.shipping_tax),
                }
            ],
            "coupon_lines": (
                [
                    {
                        "id": order.id * 10 + 3,
                        "code": order.coupon["code"],
                        "discount": money(order.discount),
                        "discount_tax": "0.00",
                    }
                ]
                if order.coupon
                else []
            ),
            "refunds": [
                {"id": r.id, "reason": r.reason, "total": money(-r.amount)} for r in refunds
            ],
        }

    # --- helpers ---

    def _order(self, request: Request, now: datetime) -> Order:
        wanted = request.path_params["id"]
        for order in self.data.placed(now):
            if order.id == wanted and order.status(now) is not None:
                return order
        raise WooError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")

    def _bounds(self, query: Any, *names: str) -> dict[str, datetime | None]:
        """Date parameters in site time, or UTC with `dates_are_gmt=true`."""
        gmt_dates = query.get("dates_are_gmt", "false").lower() in ("1", "true")
        return {name: self._date(query.get(name), gmt_dates, name) for name in names}

    def _date(self, value: str | None, is_gmt: bool, name: str) -> datetime | None:
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(name, f"{name} is not a valid date.") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC if is_gmt else self.data.zone)
        return parsed

    def _listing(
        self, request: Request, items: list[Any], shape: Any = lambda item: item
    ) -> JSONResponse:
        """One page (`page`, `per_page`) with WordPress's X-WP-Total(Pages) and next Link."""
        query = request.query_params
        per_page = _number(query.get("per_page"), 10, "per_page")
        page = _number(query.get("page"), 1, "page")
        if not 1 <= per_page <= 100:
            raise _invalid("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
        if page < 1:
            raise _invalid("page", "page must be greater than or equal to 1")
        body = [shape(item) for item in items[(page - 1) * per_page : page * per_page]]
        pages = max(1, math.ceil(len(items) / per_page)) if items else 0
        headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
        if page < pages:
            following = request.url.include_query_params(page=page + 1)
            headers["Link"] = f'<{following}>; rel="next"'
        return JSONResponse(body, headers=headers)


def _credentials(request: Request) -> tuple[str | None, str | None]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            key, _, secret = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        return key, secret
    query = request.query_params
    return query.get("consumer_key"), query.get("consumer_secret")


def _between(at: datetime, after: datetime | None, before: datetime | None) -> bool:
    return (after is None or at > after) and (before is None or at < before)


def _statuses(text: str) -> set[str]:
    asked = {s.strip() for s in text.split(",") if s.strip()}
    if "any" in asked:
        asked = (asked - {"any"}) | set(ORDER_STATUSES)
    unknown = asked - set(ORDER_STATUSES) - {"trash"}
    if unknown:
        raise _invalid(
            "status", f"status[0] is not one of any, {', '.join(ORDER_STATUSES)}, trash."
        )
    return asked


def _number(value: str | None, default: int, name: str) -> int:
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise _invalid(name, f"{name} is not of type integer.") from None


def _invalid(param: str, message: str) -> WooError:
    return WooError(
        400, "rest_invalid_param", f"Invalid parameter(s): {param}", params={param: message}
    )


def create_app(data: StoreData, controls: SandboxControls) -> Starlette:
    api = WooApp(data, controls)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Any:
            try:
                return await handler(request)
            except WooError as exc:
                return exc.response()

        return endpoint

    routes = [
        Route("/wp-json/", guarded(api.index)),
        Route(f"{API}/orders", guarded(api.orders)),
        Route(API + "/orders/{id:int}", guarded(api.order)),
        Route(API + "/orders/{id:int}/refunds", guarded(api.refunds)),
        Route(f"{API}/refunds", guarded(api.all_refunds)),
        Route(f"{API}/products", guarded(api.products)),
        Route(f"{API}/customers", guarded(api.customers)),
        Route(f"{API}/coupons", guarded(api.coupons)),
        Route(f"{API}/taxes", guarded(api.taxes)),
        Route(f"{API}/system_status", guarded(api.system_status)),
    ]
    app = Starlette(routes=routes)
    app.state.api = api
    return app
