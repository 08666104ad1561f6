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
from metrics_connect.sandbox.kit.templates import fill
from metrics_connect.sandbox.kit.wp_rest import (
    WpError,
    date_bounds,
    enum_list,
    key_pair,
    listing,
    one_of,
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
        orderby = one_of(query.get("orderby", "date"), self.data.spec["orderby"], "orderby")
        descending = query.get("order", "desc").lower() == "desc"
        key = (now, tuple(sorted(statuses)), tuple(bounds.values()), customer, orderby, descending)

        def matching() -> list[tuple[Order, str]]:
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
            by_date = orderby == "date"
            found.sort(key=lambda p: p[0].created if by_date else p[0].id, reverse=descending)
            return found

        found = self.listings.get(key, matching)
        return listing(request, found, lambda pair: self.order_json(pair[0], pair[1], now))

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
        order_url = f"{self.data.site['url']}{API}/orders/{refund.order_id}"
        values = vars(refund) | self.data.dates("created", refund.at) | {"order_url": order_url}
        return fill(self.data.spec["refund_json"], values)

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
            values = product | {
                "slug": product["sku"].lower(),
                "type": "variable" if product["variations"] else "simple",
                "stock_quantity": quantity,
                "stock_status": stock_status,
                "category": {k: category[k] for k in ("id", "name", "slug")},
                "variations": [product["id"] * 100 + i for i in range(product["variations"])],
            }
            listed.append(fill(self.data.spec["product_json"], values))
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
            values = customer | self.data.dates("created", customer["created"])
            values["paying"] = customer["id"] in self.data.order_times
            values["last_active"] = str(int(day.timestamp()))
            listed.append(fill(self.data.spec["customer_json"], values))
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
        rate, spec, dates = order.rate, self.data.spec, self.data.dates
        lines = []
        for line in order.lines:
            product = self.data.products[line["product_id"]]
            taxed = line["subtotal"] * float(rate["rate"]) / 100
            values = {"name": product["name"], "sku": product["sku"], "rate_id": rate["id"]}
            lines.append(fill(spec["line_json"], line | values | {"subtotal_tax": taxed}))
        code = f"{rate['country']}-{rate['state'] or ''}-{rate['name']}-{rate['priority']}"
        values = {
            "id": order.id,
            "version": spec["system_status"]["environment"]["version"],
            "status": status,
            "currency": self.data.currency,
            **dates("created", order.created),
            **dates("modified", order.modified(now)),
            **dates("paid", order.first(("processing", "on-hold"), now)),
            **dates("completed", order.first(("completed",), now)),
            "discount": order.discount,
            "shipping": order.shipping,
            "shipping_tax": order.shipping_tax,
            "cart_tax": order.cart_tax,
            "total": order.total,
            "total_tax": order.cart_tax + order.shipping_tax,
            "customer_id": order.customer_id,
            "billing": order.billing,
            "address": {
                k: order.billing[k] for k in ("first_name", "last_name", "city", "state", "country")
            },
            "payment_method": "bacs" if any(s == "on-hold" for _, s in order.changes) else "stripe",
            "line_items": lines,
            "rate": rate,
            "rate_id": rate["id"],
            "rate_code": code.replace("--", "-"),
            "rate_percent": float(rate["rate"]),
            "coupon": order.coupon,
            # Its tax, shipping and coupon lines are numbered after it.
            "tax_line_id": order.id * 10 + 1,
            "shipping_line_id": order.id * 10 + 2,
            "coupon_line_id": order.id * 10 + 3,
            "refunds": [
                {"id": r.id, "reason": r.reason, "total": money(-r.amount)}
                for r in order.refunds
                if r.at <= now
            ],
        }
        values["coupon_lines"] = [fill(spec["coupon_line"], values)] if order.coupon else []
        return fill(spec["order_json"], values)

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
