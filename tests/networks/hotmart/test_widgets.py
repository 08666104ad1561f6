"""Every predefined Hotmart widget through POST /metrics/get-data on an integration
connected to the emulator, and figures computed independently from the emulator's raw
purchases: net revenue of a period whose sale is refunded in the next period, sales by
status, the average ticket per currency, a product's share of sales and revenue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from metrics_connect.networks.hotmart.emulator.data import SalesData
from metrics_connect.networks.hotmart.emulator.network import build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import (
    Periods,
    numbered,
    reference_widget,
    reference_widgets,
    widget_errors,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/Sao_Paulo")
PERIODS = Periods(date(2026, 11, 19))
SOLD = {"APPROVED", "COMPLETE", "PARTIALLY_REFUNDED", "REFUNDED", "CHARGEBACK", "PROTESTED"}
KEPT = {"APPROVED", "COMPLETE", "PARTIALLY_REFUNDED"}
Purchase = dict[str, Any]


def widget(key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("hotmart", key, **overrides)


def local_day(millis: int | None) -> date | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC).astimezone(ZONE).date()


@dataclass
class Connected(ConnectedNetwork):
    data: SalesData

    def purchases(self, at: datetime | None = None) -> list[Purchase]:
        """Every purchase as Hotmart holds it at `at` (the raw records, not the API)."""
        at = at or self.clock.current
        return self.data.window(self.data.start, at, at)

    def sold(
        self, start: date, end: date, statuses: set[str], currency: str | None = None
    ) -> list[Purchase]:
        return [
            p
            for p in self.purchases()
            if p["status"] in statuses
            and (currency is None or p["currency"] == currency)
            and (day := local_day(p["approved_date"])) is not None
            and start <= day <= end
        ]


@pytest.fixture(scope="module")
def sandbox() -> SandboxNetwork:
    return build_sandbox()  # the producer's history, drawn once for the module


@pytest.fixture
async def hotmart(
    sandbox: SandboxNetwork, sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, hotmart_api_base_url="http://hotmart.test")
    with frozen_clock(sandbox, NOW) as shared:
        async with connected_network(
            Connected, "hotmart", sandbox, shared, settings, PERIODS
        ) as connected:
            yield connected


async def test_every_predefined_widget_answers_with_a_comparison(hotmart: Connected) -> None:
    widgets = numbered(reference_widgets("hotmart"))
    assert len(widgets) == 24
    result = await hotmart.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, []), w["reference_key"]
        assert "comparison" in body, w["reference_key"]


async def test_sales_by_status_and_revenue_per_currency(hotmart: Connected) -> None:
    keys = {
        "ht:complete_count": ("sales_count", SOLD, None),
        "ht:final_sales_amount": ("final_sales_amount", KEPT, None),
        "ht:refunded_sales_count": ("refunded_sales_count", {"REFUNDED"}, None),
        "ht:chargeback_count": ("chargeback_count", {"CHARGEBACK"}, None),
        "ht:revenue_brl": ("revenue_brl", SOLD, "BRL"),
        "ht:revenue_usd": ("revenue_usd", SOLD, "USD"),
        "ht:final_revenue_brl": ("final_revenue_brl", KEPT, "BRL"),
        "ht:final_revenue_usd": ("final_revenue_usd", KEPT, "USD"),
        "ht:refunded_brl": ("refunded_brl", {"REFUNDED"}, "BRL"),
        "ht:chargeback_brl": ("chargeback_brl", {"CHARGEBACK"}, "BRL"),
        "ht:refunded_chargeback_brl": ("x", {"REFUNDED", "CHARGEBACK"}, "BRL"),
        "ht:total_refunded_sales_count": ("x", {"REFUNDED", "CHARGEBACK"}, None),
    }
    result = await hotmart.get_data([widget(k) for k in [*keys, "ht:canceled_brl"]])
    for pick, (start, end) in (
        (lambda k: result[k]["values"], (PERIODS.start, PERIODS.end)),
        (
            lambda k: result[k]["comparison"]["values"],
            (PERIODS.comparison_start, PERIODS.comparison_end),
        ),
    ):
        for key, (_, statuses, currency) in keys.items():
            sold = hotmart.sold(start, end, statuses, currency)
            expected = len(sold) if currency is None else sum(p["price"] for p in sold)
            assert pick(key) == pytest.approx(expected, abs=0.01), key
            assert expected > 0, key
        # Canceled purchases by their order date (never approved).
        canceled = [
            p
            for p in hotmart.purchases()
            if p["status"] == "CANCELLED"
            and p["currency"] == "BRL"
            and start <= (local_day(p["order_date"]) or date.min) <= end
        ]
        assert pick("ht:canceled_brl") == pytest.approx(sum(p["price"] for p in canceled))
        # Net = gross - refunds - chargebacks.
        assert pick("ht:final_revenue_brl") == pytest.approx(
            pick("ht:revenue_brl") - pick("ht:refunded_chargeback_brl"), abs=0.01
        )
    # Euro purchases count as sales but in neither currency's revenue.
    euros = hotmart.sold(PERIODS.start, PERIODS.end, SOLD, "EUR")
    reais = hotmart.sold(PERIODS.start, PERIODS.end, SOLD, "BRL")
    dollars = hotmart.sold(PERIODS.start, PERIODS.end, SOLD, "USD")
    assert euros and result["ht:complete_count"]["values"] == len(euros + reais + dollars)


async def test_net_revenue_of_a_period_refunded_in_the_next_one(hotmart: Connected) -> None:
    """A sale approved in the period and refunded after it: the period's net revenue
    counts it until the refund, then no longer; gross revenue keeps it."""
    end_of_period = datetime.combine(PERIODS.end + timedelta(days=1), datetime.min.time(), ZONE)
    refunded_later = [
        r
        for r in hotmart.data.records["purchases"]
        if (state := r.state(NOW)) is not None
        and state["status"] in KEPT
        and state["currency"] == "BRL"
        and any(d.get("status") == "REFUNDED" and w > end_of_period for w, d in r.changes)
    ]
    assert refunded_later, "the seeded data refunds a sale of the period after the period"
    sale = refunded_later[0]
    refund_at = next(w for w, d in sale.changes if d.get("status") == "REFUNDED")
    keys = ["ht:final_revenue_brl", "ht:revenue_brl", "ht:refunded_brl"]
    before = await hotmart.get_data([widget(k) for k in keys], comparison=False)
    hotmart.clock.set(refund_at + timedelta(hours=1))
    after = await hotmart.get_data([widget(k) for k in keys], comparison=False)
    refunded_now = hotmart.sold(PERIODS.start, PERIODS.end, {"REFUNDED"}, "BRL")
    assert sale.id in {p["transaction"] for p in refunded_now}
    kept_now = hotmart.sold(PERIODS.start, PERIODS.end, KEPT, "BRL")
    assert sale.id not in {p["transaction"] for p in kept_now}
    assert after["ht:final_revenue_brl"]["values"] == pytest.approx(
        sum(p["price"] for p in kept_now), abs=0.01
    )
    assert after["ht:final_revenue_brl"]["values"] < before["ht:final_revenue_brl"]["values"]
    assert after["ht:revenue_brl"]["values"] == pytest.approx(before["ht:revenue_brl"]["values"])
    assert after["ht:refunded_brl"]["values"] == pytest.approx(
        sum(p["price"] for p in refunded_now), abs=0.01
    )
    assert (
        after["ht:refunded_brl"]["values"]
        >= before["ht:refunded_brl"]["values"] + sale.state(refund_at)["price"]
    )  # type: ignore[index]


async def test_average_ticket_per_currency(hotmart: Connected) -> None:
    tickets = [
        {
            "id": currency,
            "reference_key": "ht:x",
            "component": "number_v1",
            "metrics": [f"average_ticket_{currency.lower()}"],
            "dimensions": ["sale"],
        }
        for currency in ("BRL", "USD")
    ]
    result = await hotmart.get_data(tickets)
    for currency in ("BRL", "USD"):
        sold = hotmart.sold(PERIODS.start, PERIODS.end, KEPT, currency)
        mean = sum(p["price"] for p in sold) / len(sold)
        assert result[currency]["values"] == pytest.approx(mean, abs=1e-3)


async def test_products_share_of_sales_and_revenue(hotmart: Connected) -> None:
    key = "ht:revenue_by_product"
    result = await hotmart.get_data([widget(key)], comparison=False)
    body = result[key]
    sold = hotmart.sold(PERIODS.start, PERIODS.end, SOLD)
    reais = [p for p in sold if p["currency"] == "BRL"]
    rows = {row[0]: row[1:] for row in body["values"]}
    assert rows["Total"][0] == len(sold) and rows["Total"][1] == pytest.approx(100)
    for product in hotmart.data.products:
        mine = [p for p in sold if p["product_id"] == product["id"]]
        count, share, revenue, revenue_share = rows[product["name"]][:4]
        assert count == len(mine)
        assert share == pytest.approx(100 * len(mine) / len(sold), abs=1e-3)
        own = sum(p["price"] for p in reais if p["product_id"] == product["id"])
        assert revenue == pytest.approx(own, abs=0.01)
        assert revenue_share == pytest.approx(100 * own / sum(p["price"] for p in reais), abs=1e-3)


async def test_a_failed_first_sync_fails_each_widget_with_its_error(
    hotmart: Connected, sandbox: SandboxNetwork
) -> None:
    keys = ["ht:revenue_brl", "ht:revenue_by_product"]
    sandbox.controls.switches.rate_limit_next = 1000
    try:
        limited = await hotmart.get_data([widget(k) for k in keys], comparison=False)
    finally:
        sandbox.controls.switches.rate_limit_next = 0
    assert {limited[k]["error"]["code"] for k in keys} == {"upstream_rate_limited"}
    sandbox.controls.switches.revoked_tokens.add(
        str(sandbox.demo_account.credentials["access_token"])
    )
    try:
        revoked = await hotmart.get_data([widget(k) for k in keys], comparison=False)
    finally:
        sandbox.controls.switches.revoked_tokens.clear()
    assert {revoked[k]["error"]["code"] for k in keys} == {"integration_revoked"}
