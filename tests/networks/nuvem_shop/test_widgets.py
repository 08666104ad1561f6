"""Every predefined Nuvemshop widget through POST /metrics/get-data on an integration
connected to the emulator, and figures computed independently from the emulator's raw
orders: net revenue, sales, average ticket and units by creation day in the store's time
zone; orders by payment status; revenue by product and by UTM source; a refund made in
the next period taking its order out of the first; abandoned checkouts, recovered ones
gone and older ones kept by the archive."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from metrics_connect.engine.records import parse_instant
from metrics_connect.networks.nuvem_shop.emulator.data import Fields, StoreData
from metrics_connect.networks.nuvem_shop.emulator.network import build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from metrics_connect.sync.service import load_integration, run_sync
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import (
    Periods,
    get_data,
    numbered,
    reference_widget,
    reference_widgets,
    widget_errors,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/Sao_Paulo")
PERIODS = Periods(date(2026, 11, 19))


def widget(key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("nuvem_shop", key, **overrides)


@dataclass
class Connected(ConnectedNetwork):
    data: StoreData

    def orders(self) -> list[Fields]:
        return [o.state(self.clock.current) for o in self.data.orders_at(self.clock.current)]


def day_of(value: Any) -> date | None:
    instant = parse_instant(value)
    return instant.astimezone(ZONE).date() if instant is not None else None


def in_period(value: Any, start: date = PERIODS.start, end: date = PERIODS.end) -> bool:
    day = day_of(value)
    return day is not None and start <= day <= end


def sold(order: Fields) -> bool:
    return order["payment_status"] == "paid" and order["status"] != "cancelled"


@pytest.fixture(scope="module")
def sandbox() -> SandboxNetwork:
    return build_sandbox()  # the store's history, drawn once for the module


@pytest.fixture
async def nuvem(
    sandbox: SandboxNetwork, sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[Connected]:
    settings = settings_factory(
        sqlite_url,
        nuvem_shop_api_base_url="http://nuvemshop.test",
        upstream_retry_budget_seconds=1.0,
    )
    with frozen_clock(sandbox, NOW) as shared:
        async with connected_network(
            Connected, "nuvem_shop", sandbox, shared, settings, PERIODS
        ) as connected:
            yield connected


async def test_every_predefined_widget_answers_with_a_comparison(nuvem: Connected) -> None:
    # Valid coupons are told as of now only: the scheduled sync archives one count a day,
    # here on the last day of each period.
    integration = await load_integration(nuvem.runtime, nuvem.integration_uuid)
    assert integration is not None
    for day in (PERIODS.comparison_end, PERIODS.end):
        at = datetime(day.year, day.month, day.day, 22, 0, tzinfo=UTC)
        nuvem.clock.set(at)
        assert (await run_sync(nuvem.runtime, integration, at)).ok
    nuvem.clock.set(NOW)
    widgets = numbered(reference_widgets("nuvem_shop"))
    assert len(widgets) == 26
    result = await nuvem.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, []), w["reference_key"]
        assert "comparison" in body, w["reference_key"]
    valid = [c for c in nuvem.data.coupons_at(datetime(2026, 11, 19, 22, tzinfo=UTC)) if c["valid"]]
    assert result["w2"]["values"] == len(valid) > 0


async def test_net_revenue_sales_ticket_and_units_from_the_raw_orders(nuvem: Connected) -> None:
    keys = (
        "nuvem_shop:revenue",
        "nuvem_shop:sales",
        "nuvem_shop:average_ticket",
        "nuvem_shop:sold_products",
        "nuvem_shop:all_sales",
        "nuvem_shop:new_customers",
        "nuvem_shop:recurring_customers",
    )
    result = await nuvem.get_data([widget(k) for k in keys])
    orders = nuvem.orders()
    for values, (start, end) in (
        (lambda k: result[k]["values"], (PERIODS.start, PERIODS.end)),
        (
            lambda k: result[k]["comparison"]["values"],
            (PERIODS.comparison_start, PERIODS.comparison_end),
        ),
    ):
        placed = [o for o in orders if in_period(o["created_at"], start, end)]
        sales = [o for o in placed if sold(o)]
        revenue = sum(float(o["total"]) for o in sales)
        assert values("nuvem_shop:revenue") == pytest.approx(revenue, abs=0.01)
        assert values("nuvem_shop:sales") == len(sales) > 100
        assert values("nuvem_shop:average_ticket") == pytest.approx(revenue / len(sales), abs=1e-3)
        units = sum(p["quantity"] for o in sales for p in o["products"])
        assert values("nuvem_shop:sold_products") == units
        assert values("nuvem_shop:all_sales") == len(placed) > len(sales)
        returning = [
            o
            for o in sales
            if parse_instant(o["customer"]["created_at"])
            < parse_instant(o["created_at"]) - timedelta(hours=12)  # type: ignore[operator]
        ]
        assert values("nuvem_shop:recurring_customers") == len(returning) > 0
        assert values("nuvem_shop:new_customers") == len(sales) - len(returning)


async def test_orders_by_payment_status(nuvem: Connected) -> None:
    table = {
        "id": "s",
        "reference_key": "nuvem_shop:by_status",
        "component": "datatable_v1",
        "metrics": ["orders_count"],
        "dimensions": ["orders", "payment_status"],
    }
    result = await nuvem.get_data([table], comparison=False)
    rows = {row[0]: row[1] for row in result["s"]["values"]}
    expected = Counter(o["payment_status"] for o in nuvem.orders() if in_period(o["created_at"]))
    assert {k: v for k, v in rows.items() if k != "Total"} == dict(expected)
    assert {"paid", "refunded", "voided", "abandoned"} <= set(expected)


async def test_products_and_traffic_sources_from_the_raw_orders(nuvem: Connected) -> None:
    keys = ("nuvem_shop:product_performance", "nuvem_shop:traffic_source_performance")
    result = await nuvem.get_data([widget(k) for k in keys], comparison=False)
    sales = [o for o in nuvem.orders() if sold(o) and in_period(o["created_at"])]
    by_product: Counter[str] = Counter()
    for order in sales:
        for line in order["products"]:
            by_product[line["name"]] += float(line["price"]) * line["quantity"]
    rows = {row[0]: row[2] for row in result["nuvem_shop:product_performance"]["values"]}
    for name, amount in by_product.items():
        assert rows[name] == pytest.approx(amount, abs=0.01)
    by_source: Counter[str] = Counter()
    for order in sales:
        query = parse_qs(urlsplit(order["landing_site"] or "").query)
        by_source[(query.get("utm_source") or ["(direct)"])[0]] += 1
    rows = {row[0]: row[1] for row in result["nuvem_shop:traffic_source_performance"]["values"]}
    assert {k: v for k, v in rows.items() if k != "Total"} == dict(by_source)


async def test_a_refund_in_the_next_period_leaves_the_first(nuvem: Connected) -> None:
    later = NOW + timedelta(days=40)
    refunded = [
        o
        for o in nuvem.data.orders_at(NOW)
        if in_period(o.state(NOW)["created_at"])
        and sold(o.state(NOW))
        and o.state(later)["payment_status"] == "refunded"
    ]
    assert refunded
    key = "nuvem_shop:revenue"
    before = (await nuvem.get_data([widget(key)], comparison=False))[key]["values"]
    nuvem.clock.set(later)
    after = (await nuvem.get_data([widget(key)], comparison=False))[key]["values"]
    lost = sum(float(o.state(later)["total"]) for o in refunded)

    def revenue(at: datetime) -> float:
        states = [o.state(at) for o in nuvem.data.orders_at(at)]
        return sum(float(o["total"]) for o in states if sold(o) and in_period(o["created_at"]))

    # Orders pending at the first sync and paid since come in; the refunded ones leave.
    paid_since = sum(
        float(o.state(later)["total"])
        for o in nuvem.data.orders_at(NOW)
        if in_period(o.state(NOW)["created_at"]) and not sold(o.state(NOW)) and sold(o.state(later))
    )
    assert before == pytest.approx(revenue(NOW), abs=0.01)
    assert after == pytest.approx(revenue(later), abs=0.01)
    assert after == pytest.approx(before - lost + paid_since, abs=0.01)
    refunds = {
        "id": "r",
        "reference_key": "nuvem_shop:refunds",
        "component": "number_v1",
        "metrics": ["refunded_value"],
    }
    start, end = NOW.astimezone(ZONE).date(), later.astimezone(ZONE).date()
    answer = await get_data(
        nuvem.client,
        nuvem.headers,
        nuvem.integration_uuid,
        [refunds],
        PERIODS,
        comparison=False,
        start=start,
        end=end,
    )
    expected = sum(
        float(o["total"])
        for o in nuvem.orders()
        if o["payment_status"] == "refunded" and in_period(o["cancelled_at"], start, end)
    )
    assert answer["r"]["values"] == pytest.approx(expected, abs=0.01)
    assert expected >= lost > 0


async def test_abandoned_checkouts_recovered_gone_and_archived_kept(nuvem: Connected) -> None:
    key = "nuvem_shop:abandoned_checkouts"
    first = NOW - timedelta(days=25)
    nuvem.clock.set(first)
    await nuvem.get_data([widget(key)], comparison=False)  # the first sync, 25 days ago
    nuvem.clock.set(NOW)
    result = (await nuvem.get_data([widget(key)], comparison=False))[key]["values"]
    listed = {c.id for c in nuvem.data.checkouts_at(first)} | {
        c.id for c in nuvem.data.checkouts_at(NOW)
    }
    recovered = {
        c.id for c in nuvem.data.checkouts if c.recovered_at is not None and c.recovered_at <= NOW
    }
    expected = [
        c
        for c in nuvem.data.checkouts
        if c.id in listed - recovered and in_period(c.fields["created_at"])
    ]
    # Older than the 30 days Nuvemshop lists, yet kept: seen by the sync 25 days ago.
    assert any(c.created < NOW - timedelta(days=30) for c in expected)
    assert result == len(expected) > 0


async def test_upstream_failures_fail_each_widget_precisely(nuvem: Connected) -> None:
    switches = nuvem.clock.sandbox.controls.switches
    token = str(nuvem.clock.sandbox.demo_account.credentials["access_token"])
    keys = ("nuvem_shop:revenue", "nuvem_shop:abandoned_checkouts")
    switches.rate_limit_next = 1000
    try:
        limited = await nuvem.get_data([widget(k) for k in keys], comparison=False)
    finally:
        switches.rate_limit_next = 0
    assert {limited[k]["error"]["code"] for k in keys} == {"upstream_rate_limited"}
    switches.revoked_tokens.add(token)  # a scope the app lacks: 403
    try:
        revoked = await nuvem.get_data([widget(k) for k in keys], comparison=False)
    finally:
        switches.revoked_tokens.discard(token)
    assert {revoked[k]["error"]["code"] for k in keys} == {"integration_revoked"}
