"""Nuvemshop on the kit: orders, their line items and abandoned checkouts as records
datasets, valid coupons as a daily snapshot (docs/networks/nuvem_shop.md). What no spec
says:

- the `Authentication: bearer <token>` header (sic) and the required `User-Agent`;
- the incremental listing: `updated_at_min` = the cursor, `updated_at_max` pinned when a
  sync starts (pages stay put while orders change), 200 a page following the `Link`
  header, one pass per payment status (`any` lists authorized, pending and paid only);
- abandoned checkouts have no "modified since": each sync lists them all (Nuvemshop
  keeps a few weeks) and a checkout seen before, still within retention and no longer
  listed was recovered (the customer came back): it is deleted;
- an order's sale (paid, not cancelled), its returning customer (an account older than
  12 hours at the order), its UTM source (from `landing_site`), its line items.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    PlannedCall,
    RecordPage,
    RecordRow,
    Row,
)
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import streams_of
from metrics_connect.engine.records import parse_instant

# Nuvemshop's store resource names no time zone: its country's (where the store sells).
COUNTRY_ZONES = {
    "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires",
    "MX": "America/Mexico_City",
    "CO": "America/Bogota",
    "CL": "America/Santiago",
}
RETURNING_AFTER = timedelta(hours=12)
OVERLAP = timedelta(minutes=5)


class NuvemClient(JsonRestClient):
    @property
    def token(self) -> str:
        return f"bearer {super().token}"

    def family_headers(self) -> dict[str, str]:
        return {"User-Agent": str(getattr(self.ctx.settings, "nuvem_shop_user_agent", ""))}


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S%z")


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _utm_source(landing: Any) -> str:
    if not landing:
        return "(direct)"
    found = parse_qs(urlsplit(str(landing)).query).get("utm_source")
    return found[0] if found and found[0] else "(direct)"


def _sale(order: Mapping[str, Any]) -> bool:
    return order.get("payment_status") == "paid" and order.get("status") != "cancelled"


class NuvemShopConnector(KitConnector):
    slug = "nuvem_shop"
    streams = streams_of(__file__)
    client_class = NuvemClient

    def path(self, resource: str) -> str:
        return f"{self.client.version}/{self.ctx.external_id}/{resource}"

    async def account_info(self) -> AccountInfo:
        store = await self.client.get(self.path("store"), {})
        name = store.get("name") or {}
        label = name.get(store.get("main_language") or "pt") if isinstance(name, dict) else name
        return AccountInfo(
            name=str(label or f"Nuvemshop store {self.ctx.external_id}"),
            timezone=COUNTRY_ZONES.get(str(store.get("country")), "America/Sao_Paulo"),
            currency=store.get("main_currency"),
        )

    async def _page(self, resource: str, params: dict[str, str]) -> tuple[list[Any], bool]:
        """One page and whether the Link header names a next one."""
        body, headers = await self.client.retrying(
            partial(self.client.once_with_headers, "GET", self.path(resource), params, None)
        )
        more = 'rel="next"' in headers.get("link", "")
        return [i for i in body if isinstance(i, dict)] if isinstance(body, list) else [], more

    # --- "now": valid coupons (the sync snapshots them daily) ---

    def _coupon_params(self) -> dict[str, str]:
        return {"valid": "true", "per_page": str(self.streams.extra["page_size"]), "page": "1"}

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        if request.dataset != "valid_coupons" or request.end < self.today():
            return []  # only today is served: older days come from the archive
        return [PlannedCall("GET", self.path("coupons"), self._coupon_params(), True)]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        today = self.today()
        if request.dataset != "valid_coupons" or request.end < today:
            return FetchResult()
        params, count = self._coupon_params(), 0
        for page in range(1, 1000):
            coupons, more = await self._page("coupons", {**params, "page": str(page)})
            count += sum(1 for c in coupons if c.get("valid") in (True, "true"))
            if not more:
                break
        return FetchResult(rows=[Row(today, {}, {"valid_coupons": count})])

    # --- the incremental sync ---

    def _order_params(self, state: dict[str, Any]) -> dict[str, str]:
        passes = list(self.streams.extra["payment_passes"])
        params = {
            "payment_status": passes[int(state.get("pass", 0))],
            "updated_at_max": str(state["until"]),
            "per_page": str(self.streams.extra["page_size"]),
            "page": str(state.get("page", 1)),
        }
        if state.get("since"):
            params["updated_at_min"] = str(state["since"])
        return params

    def _start(self, cursor: str | None, dataset: str) -> dict[str, Any]:
        state = json.loads(cursor) if cursor else {}
        if dataset != "checkouts" and "until" not in state:
            state = {"since": state.get("since"), "until": _iso(self.clock()), "pass": 0}
        return state

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        state = self._start(cursor, dataset)
        size = str(self.streams.extra["page_size"])
        if dataset == "checkouts":
            params = {"per_page": size, "page": str(state.get("page", 1))}
            return [PlannedCall("GET", self.path("checkouts"), params, estimated=True)]
        calls = []
        for index in range(int(state.get("pass", 0)), len(self.streams.extra["payment_passes"])):
            params = self._order_params({**state, "pass": index, "page": 1})
            calls.append(PlannedCall("GET", self.path("orders"), params, estimated=True))
        return calls

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state = self._start(cursor, dataset)
        if dataset == "checkouts":
            return await self._checkouts(state)
        orders, more = await self._page("orders", self._order_params(state))
        rows = [self._order_row(o) for o in orders]
        if dataset == "order_products":
            rows = [line for o in orders for line in self._line_rows(o)]
        if more:
            state["page"] = int(state.get("page", 1)) + 1
        elif int(state.get("pass", 0)) + 1 < len(self.streams.extra["payment_passes"]):
            state = {**state, "pass": int(state.get("pass", 0)) + 1, "page": 1}
        else:
            # The next sync starts a little before this one's end: an order written late
            # (clocks apart, replication) is listed again rather than missed; an upsert.
            until = parse_instant(state["until"]) or self.clock()
            following = {"since": _iso(until - OVERLAP)}
            return RecordPage(rows, [], json.dumps(following), more=False)
        return RecordPage(rows, [], json.dumps(state), more=True)

    async def _checkouts(self, state: dict[str, Any]) -> RecordPage:
        page = int(state.get("page", 1))
        size = str(self.streams.extra["page_size"])
        listed, more = await self._page("checkouts", {"per_page": size, "page": str(page)})
        seen: dict[str, str] = dict(state.get("seen") or {})
        now: dict[str, str] = dict(state.get("listing") or {})
        rows = [self._checkout_row(c) for c in listed]
        now.update({row.id: str(row.fields.get("created_at")) for row in rows})
        if more:
            following = {"seen": seen, "listing": now, "page": page + 1}
            return RecordPage(rows, [], json.dumps(following), more=True)
        # Gone while still within retention (a day's margin): recovered by its customer.
        kept_since = self.clock() - timedelta(
            days=int(self.streams.extra["checkout_retention_days"]) - 1
        )
        gone = [
            checkout
            for checkout, created in seen.items()
            if checkout not in now and (parse_instant(created) or kept_since) > kept_since
        ]
        return RecordPage(rows, gone, json.dumps({"seen": now}), more=False)

    # --- answers as records ---

    def _order_row(self, order: Mapping[str, Any]) -> RecordRow:
        customer = order.get("customer") or {}
        created = parse_instant(order.get("created_at"))
        since = parse_instant(customer.get("created_at"))
        coupon = (order.get("coupon") or [{}])[0] or {}
        payment = order.get("payment_details") or {}
        address = order.get("shipping_address") or {}
        fields = {
            "number": order.get("number"),
            "status": order.get("status"),
            "payment_status": order.get("payment_status"),
            "shipping_status": order.get("shipping_status"),
            "sale": _sale(order),
            "amount": _number(order.get("total")),
            "currency": order.get("currency"),
            "subtotal": _number(order.get("subtotal")),
            "discount": _number(order.get("discount")),
            "discount_coupon": _number(order.get("discount_coupon")),
            "shipping_cost": _number(order.get("shipping_cost_customer")),
            "shipping_cost_owner": _number(order.get("shipping_cost_owner")),
            "shipping_days": _number(order.get("shipping_max_days")),
            "items": sum(int(p.get("quantity") or 0) for p in order.get("products") or []),
            "province": address.get("province") if isinstance(address, dict) else None,
            "delivery": order.get("shipping_pickup_type"),
            "shipping_option": order.get("shipping_option"),
            "payment_method": payment.get("method"),
            "gateway": order.get("gateway_name") or order.get("gateway"),
            "installments": str(payment.get("installments") or 1),
            "coupon_code": coupon.get("code"),
            "coupon_type": coupon.get("type"),
            "coupon_end_date": coupon.get("end_date"),
            "utm_source": _utm_source(order.get("landing_site")),
            "customer": str(customer.get("id")) if customer.get("id") else None,
            "returning": bool(created and since and since < created - RETURNING_AFTER),
            "created_at": order.get("created_at"),
            "updated_at": order.get("updated_at"),
            "paid_at": order.get("paid_at"),
            "cancelled_at": order.get("cancelled_at"),
        }
        return RecordRow(str(order["id"]), fields)

    def _line_rows(self, order: Mapping[str, Any]) -> list[RecordRow]:
        rows = []
        for index, line in enumerate(order.get("products") or []):
            quantity = int(line.get("quantity") or 0)
            fields = {
                "order": str(order["id"]),
                "product": str(line.get("product_id")),
                "product_name": line.get("name"),
                "quantity": quantity,
                "amount": round((_number(line.get("price")) or 0.0) * quantity, 2),
                "currency": order.get("currency"),
                "sale": _sale(order),
                "payment_status": order.get("payment_status"),
                "created_at": order.get("created_at"),
                "updated_at": order.get("updated_at"),
            }
            rows.append(RecordRow(f"{order['id']}:{index}", fields))
        return rows

    def _checkout_row(self, checkout: Mapping[str, Any]) -> RecordRow:
        payment = checkout.get("payment_details") or {}
        fields = {
            "amount": _number(checkout.get("total")),
            "currency": checkout.get("currency"),
            "contact": bool(checkout.get("contact_email")),
            "address": bool(checkout.get("shipping_zipcode") or checkout.get("shipping_address")),
            "shipping_method": bool(checkout.get("shipping_option")),
            "payment_method": bool(payment.get("method")),
            "created_at": checkout.get("created_at"),
            "updated_at": checkout.get("updated_at"),
        }
        return RecordRow(str(checkout["id"]), fields)
