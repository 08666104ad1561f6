"""WooCommerce on the kit: orders, their lines and refunds as records datasets synced by
`modified_after`, the out-of-stock count as a daily snapshot (docs/networks/woo_commerce.md).
What no spec says:

- the store is the customer's own host: every call goes to the `store_url` they typed,
  vetted by the SSRF guard at each call and sent through its pinned transport (no store
  URL: the operator's `woo_commerce_api_base_url`, the demo's sandbox);
- an answer that is not JSON (a maintenance page, a login wall, a security plugin) fails
  with what it was, not as a parse error;
- paging by page number over `orderby=id` ascending under a fixed `modified_after`: new
  orders land on later pages, so none is skipped; the cursor keeps the newest
  `date_modified_gmt` seen, one second earlier next time (upserts count a record once);
- trashed orders are listed only with `status=trash`: their records are deleted.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    PlannedCall,
    RecordPage,
    RecordRow,
    Row,
    UpstreamError,
)
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import streams_of
from metrics_connect.jobs.ssrf import WebhookGuard, WebhookURLRefused
from metrics_connect.jobs.transport import PinnedTransport

_PINNED: dict[str, httpx.AsyncClient] = {}  # per allowlist: one pooled guarded client


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _utc(value: Any) -> str | None:
    """WooCommerce's `*_gmt` fields carry no offset: they are UTC."""
    return f"{value}Z" if value else None


class StoreClient(JsonRestClient):
    """Calls to the customer's store: Basic auth with the key pair, the SSRF guard."""

    family_name = "WooCommerce store"

    @property
    def store_url(self) -> str | None:
        url = self.ctx.credentials.get("store_url")
        return str(url).rstrip("/") if url else None

    def url(self, path: str) -> str:
        return f"{self.store_url or self.ctx.base_url.rstrip('/')}/{path.lstrip('/')}"

    @property
    def token(self) -> str:
        key, secret = (self.ctx.credentials.get(k) for k in ("consumer_key", "consumer_secret"))
        if not key or not secret:
            raise UpstreamError("no consumer key and secret stored for this store")
        return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()

    async def send(self, endpoint: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.store_url is not None:
            settings = self.ctx.settings
            allowlist = str(getattr(settings, "webhook_allowlist", "") or "")
            try:
                await WebhookGuard(allowlist).vet(self.url(path))
            except WebhookURLRefused as exc:
                reason = exc.reason.split(";")[0].rstrip(".")  # the guard speaks of webhooks
                raise UpstreamError(
                    f"The store URL is refused: {reason[:1].lower()}{reason[1:]}.",
                    upstream_code="store_url_refused",
                ) from None
            if isinstance(getattr(self.ctx.http, "_transport", None), httpx.AsyncHTTPTransport):
                # Not routed elsewhere (tests): connect only to the address just vetted.
                pinned = _PINNED.get(allowlist)
                if pinned is None:
                    pinned = _PINNED[allowlist] = httpx.AsyncClient(
                        transport=PinnedTransport(WebhookGuard(allowlist)),
                        timeout=self.ctx.http.timeout,
                        follow_redirects=False,
                        headers={"User-Agent": "metrics-connect"},
                    )
                self.ctx.http = pinned
        return await super().send(endpoint, method, path, **kwargs)

    def body_or_raise(self, endpoint: str, response: httpx.Response) -> Any:
        kind = response.headers.get("content-type", "")
        if "json" not in kind and response.status_code not in (429,) and response.status_code < 500:
            shown = kind.split(";")[0] or "no content type"
            raise UpstreamError(
                f"The store answered {endpoint} with {shown} (HTTP {response.status_code}), "
                "not the WooCommerce REST API: is it disabled, behind a login or a firewall?",
                upstream_code="not_json",
            )
        return super().body_or_raise(endpoint, response)


class WooCommerceConnector(KitConnector):
    slug = "woo_commerce"
    streams = streams_of(__file__)
    client_class = StoreClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._products: dict[str, dict[str, Any]] | None = None
        extra = self.streams.extra
        self.api, self.page_size = str(extra["api"]), int(extra["page_size"])
        self.sales = set(extra["sale_statuses"])

    async def account_info(self) -> AccountInfo:
        site = await self.client.get("wp-json/", {})
        status = await self.client.get(f"{self.api}/system_status", {})
        return AccountInfo(
            name=str(site.get("name") or self.ctx.credentials.get("store_url") or ""),
            timezone=str(site.get("timezone_string") or "UTC"),
            currency=(status.get("settings") or {}).get("currency"),
        )

    # --- "now": products out of stock (the sync snapshots it daily) ---

    def _stock_call(self) -> PlannedCall:
        return PlannedCall(
            "GET", f"{self.api}/products", {"stock_status": "outofstock", "per_page": "1"}
        )

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        if request.dataset != "stock":
            return super().plan_calls(request)
        return [] if request.end < self.today() else [self._stock_call()]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset != "stock":
            return await super().fetch(request)
        today = self.today()
        if request.end < today:
            return FetchResult()  # only today is served: older days come from the archive
        call = self._stock_call()
        _, headers = await self.client.retrying(
            partial(self.client.once_with_headers, "GET", call.path, call.params)
        )
        count = int(headers.get("x-wp-total") or 0)
        return FetchResult(rows=[Row(today, {}, {"products_out_of_stock": count})])

    # --- the incremental sync ---

    def _params(self, state: dict[str, Any], status: str = "any") -> dict[str, str]:
        params = {
            "per_page": str(self.page_size),
            "page": str(state.get("page") or 1),
            "orderby": "id",
            "order": "asc",
            "status": status,
            "dates_are_gmt": "true",
        }
        if state.get("since"):  # one second earlier: WooCommerce's bound is exclusive
            since = datetime.fromisoformat(state["since"]) - timedelta(seconds=1)
            params["modified_after"] = since.strftime("%Y-%m-%dT%H:%M:%S")
        return params

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        state = json.loads(cursor) if cursor else {}
        if dataset == "refunds":
            return [PlannedCall("GET", f"{self.api}/refunds", self._refund_params(state), True)]
        calls = [PlannedCall("GET", f"{self.api}/orders", self._params(state), estimated=True)]
        if dataset == "order_lines":
            calls.insert(0, PlannedCall("GET", f"{self.api}/products", {"per_page": "100"}, True))
        if dataset == "orders":
            calls.append(PlannedCall("GET", f"{self.api}/customers", {"include": "..."}, True))
        trash = {**state, "page": 1}
        calls.append(PlannedCall("GET", f"{self.api}/orders", self._params(trash, "trash"), True))
        return calls

    async def _orders(self, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
        body, headers = await self.client.retrying(
            partial(self.client.once_with_headers, "GET", f"{self.api}/orders", params)
        )
        orders = [o for o in body if isinstance(o, dict)] if isinstance(body, list) else []
        return orders, int(headers.get("x-wp-totalpages") or 0)

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state = json.loads(cursor) if cursor else {}
        if dataset == "refunds":
            return await self._refunds(state)
        orders, pages = await self._orders(self._params(state))
        rows = await self._rows(dataset, orders)
        high = max(
            [state.get("high") or "", *(str(o.get("date_modified_gmt") or "") for o in orders)]
        )
        page = int(state.get("page") or 1)
        if page < pages:
            following = {**state, "page": page + 1, "high": high}
            return RecordPage(rows, [], json.dumps(following), more=True)
        gone = await self._trashed(dataset, state.get("since"))
        done = {"since": high or state.get("since"), "page": 1, "high": high}
        return RecordPage(rows, gone, json.dumps(done), more=False)

    async def _trashed(self, dataset: str, since: str | None) -> list[str]:
        """Ids of the records of orders trashed since the cursor (lines: their line ids)."""
        gone: list[str] = []
        state: dict[str, Any] = {"since": since, "page": 1}
        for _ in range(10_000):
            trashed, pages = await self._orders(self._params(state, "trash"))
            for order in trashed:
                lines = order.get("line_items") or []
                ids = [line["id"] for line in lines] if dataset == "order_lines" else [order["id"]]
                gone += [str(i) for i in ids]
            if state["page"] >= pages:
                return gone
            state["page"] += 1
        return gone

    async def _rows(self, dataset: str, orders: list[dict[str, Any]]) -> list[RecordRow]:
        if dataset == "orders":
            customers = await self._customers(orders)
            return [self._order(o, customers.get(str(o.get("customer_id")))) for o in orders]
        products = await self._lookup_products()
        return [self._line(o, line, products) for o in orders for line in o.get("line_items") or []]

    def _refund_params(self, state: dict[str, Any]) -> dict[str, str]:
        params = {
            "per_page": str(self.page_size),
            "page": str(state.get("page") or 1),
            "orderby": "id",
            "order": "asc",
            "dates_are_gmt": "true",
        }
        if state.get("since"):  # refunds are made, not edited: by creation date
            since = datetime.fromisoformat(state["since"]) - timedelta(seconds=1)
            params["after"] = since.strftime("%Y-%m-%dT%H:%M:%S")
        return params

    async def _refunds(self, state: dict[str, Any]) -> RecordPage:
        """`GET /refunds` (WooCommerce 9.0+) by creation date; the order from `_links.up`."""
        body, headers = await self.client.retrying(
            partial(
                self.client.once_with_headers,
                "GET",
                f"{self.api}/refunds",
                self._refund_params(state),
            )
        )
        rows = []
        for refund in body if isinstance(body, list) else []:
            up = ((refund.get("_links") or {}).get("up") or [{}])[0].get("href") or ""
            amount = round(_number(refund.get("amount")), 2)
            fields = {
                "order": up.rstrip("/").rsplit("/", 1)[-1] or None,
                "amount": amount,
                "deduction": -amount,
                "reason": refund.get("reason") or None,
                "created_at": _utc(refund.get("date_created_gmt")),
            }
            rows.append(RecordRow(str(refund["id"]), fields))
        high = max(
            [state.get("high") or "", *(str(r.fields["created_at"] or "")[:19] for r in rows)]
        )
        page = int(state.get("page") or 1)
        if page < int(headers.get("x-wp-totalpages") or 0):
            return RecordPage(rows, [], json.dumps({**state, "page": page + 1, "high": high}), True)
        done = {"since": high or state.get("since"), "page": 1, "high": high}
        return RecordPage(rows, [], json.dumps(done), more=False)

    async def _customers(self, orders: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        ids = sorted({str(o.get("customer_id")) for o in orders if o.get("customer_id")})
        if not ids:
            return {}
        params = {"include": ",".join(ids), "per_page": "100", "role": "all"}
        body = await self.client.get(f"{self.api}/customers", params)
        return (
            {str(c["id"]): c for c in body if isinstance(c, dict)} if isinstance(body, list) else {}
        )

    async def _lookup_products(self) -> dict[str, dict[str, Any]]:
        if self._products is None:
            products: dict[str, dict[str, Any]] = {}
            for page in range(1, 1000):
                params = {"per_page": "100", "page": str(page)}
                body, headers = await self.client.retrying(
                    partial(self.client.once_with_headers, "GET", f"{self.api}/products", params)
                )
                products |= {str(p["id"]): p for p in body if isinstance(p, dict)}
                if page >= int(headers.get("x-wp-totalpages") or 0):
                    break
            self._products = products
        return self._products

    def _order(self, order: dict[str, Any], customer: dict[str, Any] | None) -> RecordRow:
        billing = order.get("billing") or {}
        lines = order.get("line_items") or []
        taxes = order.get("tax_lines") or []
        coupons = [str(c.get("code")) for c in order.get("coupon_lines") or []]
        discount = _number(order.get("discount_total"))
        name = f"{billing.get('first_name') or ''} {billing.get('last_name') or ''}".strip()
        meta = {m.get("key"): m.get("value") for m in (customer or {}).get("meta_data") or []}
        active = meta.get("wc_last_active")
        fields = {
            "number": order.get("number"),
            "status": order.get("status"),
            "sale": order.get("status") in self.sales,
            "currency": order.get("currency"),
            "total": _number(order.get("total")),
            "gross": round(sum(_number(line.get("subtotal")) for line in lines), 2),
            "discount": discount,
            "discount_deduction": -discount,
            "tax": _number(order.get("total_tax")),
            "cart_tax": _number(order.get("cart_tax")),
            "shipping": _number(order.get("shipping_total")),
            "shipping_tax": _number(order.get("shipping_tax")),
            "items": sum(int(line.get("quantity") or 0) for line in lines),
            "has_coupon": bool(coupons),
            "coupon": ", ".join(sorted(coupons)) or None,
            "tax_code": ", ".join(sorted(str(t.get("rate_code")) for t in taxes)) or None,
            "tax_rate": ", ".join(sorted(f"{_number(t.get('rate_percent')):g}%" for t in taxes))
            or None,
            "customer": f"c{order['customer_id']}"
            if order.get("customer_id")
            else f"guest:{billing.get('email')}",
            "customer_name": name or billing.get("email"),
            "email": billing.get("email"),
            "username": (customer or {}).get("username"),
            "city": billing.get("city"),
            "region": billing.get("state"),
            "country": billing.get("country"),
            "registered": ((customer or {}).get("date_created_gmt") or "")[:10] or None,
            "last_active": datetime.fromtimestamp(int(active), UTC).date().isoformat()
            if active
            else None,
            "created_at": _utc(order.get("date_created_gmt")),
            "updated_at": _utc(order.get("date_modified_gmt")),
            "paid_at": _utc(order.get("date_paid_gmt")),
            "completed_at": _utc(order.get("date_completed_gmt")),
        }
        return RecordRow(str(order["id"]), fields)

    def _line(
        self, order: dict[str, Any], line: dict[str, Any], products: dict[str, dict[str, Any]]
    ) -> RecordRow:
        product = products.get(str(line.get("product_id"))) or {}
        categories = [str(c.get("name")) for c in product.get("categories") or []]
        fields = {
            "order": str(order["id"]),
            "product": str(line.get("product_id")),
            "product_name": line.get("name"),
            "sku": line.get("sku") or product.get("sku"),
            "category": ", ".join(categories) or None,
            "variations": len(product.get("variations") or []),
            "product_status": product.get("status"),
            "stock": product.get("stock_quantity"),
            "quantity": int(line.get("quantity") or 0),
            "subtotal": _number(line.get("subtotal")),
            "total": _number(line.get("total")),
            "status": order.get("status"),
            "sale": order.get("status") in self.sales,
            "currency": order.get("currency"),
            "created_at": _utc(order.get("date_created_gmt")),
            "updated_at": _utc(order.get("date_modified_gmt")),
        }
        return RecordRow(str(line["id"]), fields)
