"""WooCommerce on the kit: orders, lines and refunds as records, the out-of-stock count as
a daily snapshot (docs/networks/woo_commerce.md). What no spec says: every call goes to
the customer's `store_url`, vetted by the SSRF guard each time and sent through its
pinned transport (no store URL: the operator's setting, the demo); an answer that is not
JSON fails saying what it was; pages go by number over `orderby=id` under a fixed
`modified_after` (new orders land on later pages); trashed orders (`status=trash`) are
deleted records.
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
from metrics_connect.connectors.kit.spec import dig, streams_of
from metrics_connect.jobs.ssrf import WebhookGuard, WebhookURLRefused
from metrics_connect.jobs.transport import PinnedTransport
from metrics_connect.networks.woo_commerce.accounts import site_zone

_PINNED: dict[str, httpx.AsyncClient] = {}  # per allowlist: one pooled guarded client
OUT_OF_STOCK = {"stock_status": "outofstock", "per_page": "1"}


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
            allowlist = str(getattr(self.ctx.settings, "webhook_allowlist", "") or "")
            try:
                await WebhookGuard(allowlist).vet(self.url(path))
            except WebhookURLRefused as exc:
                reason = exc.reason.split(";")[0].rstrip(".")  # the guard speaks of webhooks
                raise UpstreamError(
                    f"The store URL is refused: {reason[:1].lower()}{reason[1:]}.",
                    upstream_code="store_url_refused",
                ) from None
            http = self.ctx.http
            if isinstance(getattr(http, "_transport", None), httpx.AsyncHTTPTransport):
                # Not routed elsewhere (tests): connect only to the address just vetted.
                if allowlist not in _PINNED:
                    guarded = PinnedTransport(WebhookGuard(allowlist))
                    _PINNED[allowlist] = httpx.AsyncClient(transport=guarded, timeout=http.timeout)
                self.ctx.http = _PINNED[allowlist]
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
            timezone=site_zone(site) or "UTC",
            currency=(status.get("settings") or {}).get("currency"),
        )

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:  # stock: "now" only
        if request.dataset != "stock":
            return super().plan_calls(request)
        stock = PlannedCall("GET", f"{self.api}/products", OUT_OF_STOCK)
        return [] if request.end < self.today() else [stock]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset != "stock":
            return await super().fetch(request)
        today = self.today()
        if request.end < today:
            return FetchResult()  # only today is served: older days come from the archive
        path = f"{self.api}/products"
        _, pages = await self._list(path, OUT_OF_STOCK)  # per_page 1: the pages are the count
        return FetchResult(rows=[Row(today, {}, {"products_out_of_stock": pages})])

    # --- the incremental sync ---

    def _params(self, dataset: str, state: dict[str, Any], status: str = "any") -> dict[str, str]:
        params = {"per_page": str(self.page_size), "page": str(state.get("page") or 1)}
        params |= {"orderby": "id", "order": "asc", "dates_are_gmt": "true"}
        if dataset != "refunds":
            params["status"] = status
        if state.get("since"):  # one second earlier: WooCommerce's bound is exclusive
            since = datetime.fromisoformat(state["since"]) - timedelta(seconds=1)
            # Refunds are made, never edited: by creation date; orders by last change.
            bound = "after" if dataset == "refunds" else "modified_after"
            params[bound] = since.strftime("%Y-%m-%dT%H:%M:%S")
        return params

    def _path(self, dataset: str) -> str:
        return f"{self.api}/{'refunds' if dataset == 'refunds' else 'orders'}"

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        state = json.loads(cursor) if cursor else {}
        calls = [PlannedCall("GET", self._path(dataset), self._params(dataset, state), True)]
        if dataset == "refunds":
            return calls
        lookup = (
            ("products", {"per_page": "100"})
            if dataset == "order_lines"
            else ("customers", {"include": "..."})
        )
        calls.append(PlannedCall("GET", f"{self.api}/{lookup[0]}", lookup[1], True))
        trash = self._params(dataset, {**state, "page": 1}, "trash")
        return [*calls, PlannedCall("GET", f"{self.api}/orders", trash, True)]

    async def _list(self, path: str, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
        body, headers = await self.client.retrying(
            partial(self.client.once_with_headers, "GET", path, params)
        )
        items = [i for i in body if isinstance(i, dict)] if isinstance(body, list) else []
        return items, int(headers.get("x-wp-totalpages") or 0)

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state = json.loads(cursor) if cursor else {}
        items, pages = await self._list(self._path(dataset), self._params(dataset, state))
        rows = await self._rows(dataset, items)
        stamp = "date_created_gmt" if dataset == "refunds" else "date_modified_gmt"
        high = max([state.get("high") or "", *(str(i.get(stamp) or "") for i in items)])
        page = int(state.get("page") or 1)
        if page < pages:
            following = {**state, "page": page + 1, "high": high}
            return RecordPage(rows, [], json.dumps(following), more=True)
        gone = [] if dataset == "refunds" else await self._trashed(dataset, state.get("since"))
        done = {"since": high or state.get("since"), "page": 1, "high": high}
        return RecordPage(rows, gone, json.dumps(done), more=False)

    async def _trashed(self, dataset: str, since: str | None) -> list[str]:
        """Ids of the records of orders trashed since the cursor (lines: their line ids)."""
        gone: list[str] = []
        state: dict[str, Any] = {"since": since, "page": 1}
        for _ in range(10_000):
            path, params = f"{self.api}/orders", self._params(dataset, state, "trash")
            trashed, pages = await self._list(path, params)
            for order in trashed:
                lines = order.get("line_items") or []
                ids = [line["id"] for line in lines] if dataset == "order_lines" else [order["id"]]
                gone += [str(i) for i in ids]
            if state["page"] >= pages:
                break
            state["page"] += 1
        return gone

    async def _rows(self, dataset: str, items: list[dict[str, Any]]) -> list[RecordRow]:
        if dataset == "refunds":
            return [self._refund(refund) for refund in items]
        if dataset == "orders":
            customers = await self._customers(items)
            return [self._order(o, customers.get(str(o.get("customer_id")))) for o in items]
        products = await self._lookup_products()
        return [self._line(o, line, products) for o in items for line in o.get("line_items") or []]

    async def _customers(self, orders: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        ids = sorted({str(o.get("customer_id")) for o in orders if o.get("customer_id")})
        if not ids:
            return {}
        params = {"include": ",".join(ids), "per_page": "100", "role": "all"}
        found, _ = await self._list(f"{self.api}/customers", params)
        return {str(c["id"]): c for c in found}

    async def _lookup_products(self) -> dict[str, dict[str, Any]]:
        if self._products is None:
            products: dict[str, dict[str, Any]] = {}
            for page in range(1, 1000):
                params = {"per_page": "100", "page": str(page)}
                found, pages = await self._list(f"{self.api}/products", params)
                products |= {str(p["id"]): p for p in found}
                if page >= pages:
                    break
            self._products = products
        return self._products

    def _fields(self, dataset: str, item: dict[str, Any]) -> dict[str, Any]:
        """The item's fields as streams.yaml renames them: money as numbers, instants UTC."""
        spec = self.streams.datasets[dataset]
        fields: dict[str, Any] = {}
        for name, path in spec.extra["rename"].items():
            value = dig(item, path)
            if name in spec.money_fields:
                value = _number(value)
            fields[name] = _utc(value) if name in spec.record_dates else value
        return fields

    def _refund(self, refund: dict[str, Any]) -> RecordRow:
        up = ((refund.get("_links") or {}).get("up") or [{}])[0].get("href") or ""
        fields = self._fields("refunds", refund)
        fields |= {
            "order": up.rstrip("/").rsplit("/", 1)[-1] or None,
            "deduction": -fields["amount"],
        }
        return RecordRow(str(refund["id"]), fields)

    def _order(self, order: dict[str, Any], customer: dict[str, Any] | None) -> RecordRow:
        billing, account = order.get("billing") or {}, customer or {}
        lines = order.get("line_items") or []
        taxes = order.get("tax_lines") or []
        coupons = sorted(str(c.get("code")) for c in order.get("coupon_lines") or [])
        meta = {m.get("key"): m.get("value") for m in account.get("meta_data") or []}
        active = meta.get("wc_last_active")
        name = f"{billing.get('first_name') or ''} {billing.get('last_name') or ''}".strip()
        guest = f"guest:{billing.get('email')}"
        day = datetime.fromtimestamp(int(active), UTC).date().isoformat() if active else None
        rates = sorted(f"{_number(t.get('rate_percent')):g}%" for t in taxes)
        fields = self._fields("orders", order) | {
            "sale": order.get("status") in self.sales,
            "gross": round(sum(_number(line.get("subtotal")) for line in lines), 2),
            "discount_deduction": -_number(order.get("discount_total")),
            "items": sum(int(line.get("quantity") or 0) for line in lines),
            "has_coupon": bool(coupons),
            "coupon": ", ".join(coupons) or None,
            "tax_code": ", ".join(sorted(str(t.get("rate_code")) for t in taxes)) or None,
            "tax_rate": ", ".join(rates) or None,
            "customer": f"c{order['customer_id']}" if order.get("customer_id") else guest,
            "customer_name": name or billing.get("email"),
            "username": account.get("username"),
            "registered": (account.get("date_created_gmt") or "")[:10] or None,
            "last_active": day,
        }
        return RecordRow(str(order["id"]), fields)

    def _line(
        self, order: dict[str, Any], line: dict[str, Any], products: dict[str, dict[str, Any]]
    ) -> RecordRow:
        product = products.get(str(line.get("product_id"))) or {}
        categories = ", ".join(str(c.get("name")) for c in product.get("categories") or [])
        fields = self._fields("order_lines", {**line, "order": order, "product": product}) | {
            "order": str(order["id"]),
            "product": str(line.get("product_id")),
            "category": categories or None,
            "variations": len(product.get("variations") or []),
            "sale": order.get("status") in self.sales,
        }
        return RecordRow(str(line["id"]), fields)
