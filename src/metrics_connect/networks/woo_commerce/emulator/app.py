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

from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from metrics_connect.networks.woo_commerce.emulator.data import Order, Refund, StoreData, money
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.records import Listings
from metrics_connect.sandbox.kit.wp_rest import (
    WpError,
    date_bounds,
    enum_list,
    invalid_param,
    key_pair,
    listing,
    within,
    wp_routes,
)

API = "/wp-json/wc/v3"


class WooApp:
    def __init__(self, data: StoreData, controls: SandboxControls) -> None:
        self.data = data
        self.controls = controls
        self.keys = {k["consumer_key"]: k for k in data.spec["keys"]}
        # A listing's matches while the clock stands (its next pages): key -> orders.
        self.listings: Listings[list[tuple[Order, str]]] = Listings()
        self.statuses = tuple(data.spec["order_statuses"])

    def now(self) -> datetime:
        return self.controls.clock.now()

    def refused(self, reason: str, **data: Any) -> WpError:
        """The refusal data.yaml's `refusals` names `reason` (status, code, message)."""
        status, code, message = self.data.spec["refusals"][reason]
        return WpError(status, code, message, **data)

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        key, secret = key_pair(request)
        if not key:
            raise self.refused("cannot_list")
        found = self.keys.get(key)
        if found is None or key in controls.switches.revoked_tokens:
            raise self.refused("unknown_key")
        if secret != found["consumer_secret"]:
            raise self.refused("wrong_secret")
        if found["permissions"] == "write":
            raise self.refused("cannot_list")
        if controls.should_rate_limit():
            # WooCommerce itself has no REST limit; hosts and security plugins answer 429.
            raise self.refused("too_many", retry_after=controls.switches.retry_after_seconds)
        if controls.should_fail():
            raise self.refused("failed")

    # --- routes ---

    async def index(self, request: Request) -> JSONResponse:
        return JSONResponse(self.data.site)

    async def orders(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /orders")
        query = request.query_params
        now = self.now()
        statuses = enum_list(query.get("status", "any"), self.statuses, "status", ("trash",))
        bounds = self.bounds(query, "after", "before", "modified_after", "modified_before")
        customer = query.get("customer")
        orderby = query.get("orderby", "date")
        if orderby not in self.data.spec["orderby"]:
            choices = ", ".join(self.data.spec["orderby"])
            raise invalid_param("orderby", f"orderby is not one of {choices}.")
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
        return listing(request, found, lambda pair: self.order_json(pair[0], pair[1], now))

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
            if not within(order.created, bounds["after"], bounds["before"]):
                continue
            modified = order.modified(now)
            if not within(modified, bounds["modified_after"], bounds["modified_before"]):
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
        return listing(request, made, self.refund_json)

    async def all_refunds(self, request: Request) -> JSONResponse:
        """`GET /refunds` (WooCommerce 9.0+): every order's refunds, `after`/`before` on
        their creation date, `_links.up` naming their order."""
        await self.admit(request, "GET /refunds")
        query = request.query_params
        now = self.now()
        bounds = self.bounds(query, "after", "before")
        made = [r for r in self.data.refunds if r.at <= now and within(r.at, *bounds.values())]
        descending = query.get("order", "desc").lower() == "desc"
        by_id = query.get("orderby", "date") == "id"
        made.sort(key=lambda r: r.id if by_id else r.at, reverse=descending)
        return listing(request, made, self.refund_json)

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
        return listing(request, listed)

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
        return listing(request, listed)

    async def coupons(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /coupons")
        return listing(request, self.data.spec["coupons"])

    async def taxes(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /taxes")
        return listing(request, self.data.spec["tax_rates"])

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
        raise self.refused("no_order")

    def bounds(self, query: Any, *names: str) -> dict[str, datetime | None]:
        return date_bounds(query, self.data.zone, *names)


def create_app(data: StoreData, controls: SandboxControls) -> Starlette:
    api = WooApp(data, controls)
    routes = wp_routes(
        [
            ("/wp-json/", api.index),
            (f"{API}/orders", api.orders),
            (API + "/orders/{id:int}", api.order),
            (API + "/orders/{id:int}/refunds", api.refunds),
            (f"{API}/refunds", api.all_refunds),
            (f"{API}/products", api.products),
            (f"{API}/customers", api.customers),
            (f"{API}/coupons", api.coupons),
            (f"{API}/taxes", api.taxes),
            (f"{API}/system_status", api.system_status),
        ]
    )
    app = Starlette(routes=routes)
    app.state.api = api
    return app
