"""Hotmart on the kit: the producer's purchases as a records dataset synced from the
sales history (docs/networks/hotmart.md). What no spec says:

- no "modified since": each sync re-reads the purchases ordered in a window (two years
  on the first sync, then from a status's `revisit_days` before the last sync's end),
  which is where refunds and chargebacks show, since a purchase keeps its order date;
- no listing of every status at once: one pass per status of `statuses` (the default
  listing is APPROVED and COMPLETE), each paged by `page_token`;
- the cursor is JSON: `since` / `to`, the status pass and page reached, and `done_to`
  (the end of the last complete sync) between syncs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from metrics_connect.connectors.base import AccountInfo, PlannedCall, RecordPage, RecordRow
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import streams_of

HISTORY = "payments/api/v1/sales/history"
TIMEZONE = "America/Sao_Paulo"  # Hotmart's days: Brasília time
DAY_MS = 86_400_000


def _iso(millis: Any) -> str | None:
    if millis in (None, ""):
        return None
    at = datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class HotmartConnector(KitConnector):
    slug = "hotmart"
    streams = streams_of(__file__)
    client_class = JsonRestClient

    async def account_info(self) -> AccountInfo:
        return AccountInfo(name=f"Hotmart producer {self.ctx.external_id}", timezone=TIMEZONE)

    def _state(self, cursor: str | None) -> dict[str, Any]:
        """The cursor, with a sync opened when none is under way: `since` the end of the
        last complete sync (None: a backfill), `to` now."""
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        if "to" in state:
            return state
        now = int(self.clock().timestamp() * 1000)
        return {"since": state.get("done_to"), "to": now, "status": 0, "page_token": None}

    def _start(self, state: dict[str, Any], status: str) -> int:
        """Where a status pass starts: the backfill's horizon, or its revisit window
        before the last sync's end."""
        extra = self.streams.extra
        if state["since"] is None:
            return int(state["to"] - int(extra["backfill_days"]) * DAY_MS)
        revisit = extra["revisit_days"]
        days = int(revisit.get(status, revisit["other"]))
        return int(state["since"] - days * DAY_MS)

    def _params(self, state: dict[str, Any]) -> dict[str, str]:
        status = str(self.streams.extra["statuses"][state["status"]])
        params = {
            "start_date": str(self._start(state, status)),
            "end_date": str(state["to"]),
            "max_results": str(self.streams.extra["page_size"]),
            "transaction_status": status,
            "page_token": state.get("page_token") or "",
        }
        return {k: v for k, v in params.items() if v}

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        state = self._state(cursor)
        calls = []
        for index in range(state["status"], len(self.streams.extra["statuses"])):
            step = {**state, "status": index, "page_token": None}
            if index == state["status"]:
                step["page_token"] = state.get("page_token")
            calls.append(PlannedCall("GET", HISTORY, self._params(step), estimated=True))
        return calls

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state = self._state(cursor)
        body = await self.client.get(HISTORY, self._params(state))
        rows = [self._row(i) for i in body.get("items") or [] if isinstance(i, dict)]
        following = (body.get("page_info") or {}).get("next_page_token")
        if following:
            return RecordPage(rows, [], json.dumps({**state, "page_token": following}), True)
        if state["status"] + 1 < len(self.streams.extra["statuses"]):
            step = {**state, "status": state["status"] + 1, "page_token": None}
            return RecordPage(rows, [], json.dumps(step), True)
        return RecordPage(rows, [], json.dumps({"done_to": state["to"]}), False)

    def _row(self, item: dict[str, Any]) -> RecordRow:
        purchase = item.get("purchase") or {}
        product = item.get("product") or {}
        price = purchase.get("price") or {}
        fee = purchase.get("hotmart_fee") or {}
        fields = {
            "product": product.get("name"),
            "product_id": str(product.get("id")) if product.get("id") is not None else None,
            "status": purchase.get("status"),
            "amount": price.get("value"),
            "currency": price.get("currency_code"),
            "payment_type": (purchase.get("payment") or {}).get("type"),
            "installments": (purchase.get("payment") or {}).get("installments_number"),
            "campaign": (purchase.get("tracking") or {}).get("source"),
            "offer_code": (purchase.get("offer") or {}).get("code"),
            "fee": fee.get("total")
            if fee.get("currency_code") == price.get("currency_code")
            else None,
            "created_at": _iso(purchase.get("order_date")),
            "approved_at": _iso(purchase.get("approved_date")),
            "warranty_expire_at": _iso(purchase.get("warranty_expire_date")),
        }
        return RecordRow(str(purchase.get("transaction")), fields)
