"""Every predefined WooCommerce widget through POST /metrics/get-data on an integration
connected to the emulator, and figures computed independently from the emulator's raw
orders: net revenue of a period with a refund made in the next one, orders by status,
the average ticket, categories from the order lines, an order trashed between syncs."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.networks.woo_commerce.emulator.data import Order, StoreData
from tests.networks.widgets import numbered, reference_widget, reference_widgets, widget_errors
from tests.networks.woo_commerce.conftest import NOW, PERIODS, Connected

pytestmark = pytest.mark.asyncio(loop_scope="module")
SALES = ("processing", "completed", "on-hold", "refunded")


def widget(key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("woo_commerce", key, **overrides)


def local_day(data: StoreData, at: datetime) -> date:
    return at.astimezone(data.zone).date()


def placed_in(data: StoreData, start: date, end: date, at: datetime = NOW) -> list[Order]:
    return [
        o
        for o in data.placed(at)
        if start <= local_day(data, o.created) <= end and o.status(at) != "trash"
    ]


def sales_in(data: StoreData, start: date, end: date, at: datetime = NOW) -> list[Order]:
    return [o for o in placed_in(data, start, end, at) if o.status(at) in SALES]


async def test_every_predefined_widget_answers_with_a_comparison(woo: Connected) -> None:
    widgets = numbered(reference_widgets("woo_commerce"))
    assert len(widgets) == 29
    # Stock is only served as "now": the sync archived it on each period's last day.
    await woo.archive(NOW - timedelta(days=91), NOW - timedelta(days=1))
    result = await woo.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, [], 0), w["reference_key"]
        assert "comparison" in body, w["reference_key"]
    by_key = {w["reference_key"]: result[w["id"]] for w in widgets}
    assert len(by_key["woo_commerce:tax_performance"]["values"]) == 5  # 4 rates + Total
    assert len(by_key["woo_commerce:category_performance"]["values"]) == 4  # 3 + Total


async def test_net_revenue_with_a_refund_made_in_the_next_period(woo: Connected) -> None:
    data = woo.data
    current, previous = (
        (PERIODS.start, PERIODS.end),
        (
            PERIODS.comparison_start,
            PERIODS.comparison_end,
        ),
    )
    # A sale of the previous period refunded in the current one: its refund lowers the
    # current period's net sales, not the previous period's.
    late = [
        r
        for r in data.refunds
        if r.at <= NOW
        and current[0] <= local_day(data, r.at) <= current[1]
        and any(
            o.id == r.order_id and previous[0] <= local_day(data, o.created) <= previous[1]
            for o in data.orders
        )
    ]
    assert late
    keys = ("woo_commerce:number_net_sales", "woo_commerce:number_refunds")
    result = await woo.get_data([widget(k) for k in keys])

    def expected(start: date, end: date) -> tuple[float, float]:
        sales = sales_in(data, start, end)
        gross = sum(sum(line["subtotal"] for line in o.lines) for o in sales)
        discounts = sum(o.discount for o in sales)
        refunded = sum(
            r.amount for r in data.refunds if r.at <= NOW and start <= local_day(data, r.at) <= end
        )
        return round(gross - refunded - discounts, 2), round(refunded, 2)

    net, refunded = expected(*current)
    assert result[keys[0]]["values"] == pytest.approx(net, abs=0.01)
    assert result[keys[1]]["values"] == pytest.approx(refunded, abs=0.01)
    net_before, refunded_before = expected(*previous)
    assert result[keys[0]]["comparison"]["values"] == pytest.approx(net_before, abs=0.01)
    assert result[keys[1]]["comparison"]["values"] == pytest.approx(refunded_before, abs=0.01)
    assert sum(r.amount for r in late) > 0


async def test_orders_by_status_and_the_average_ticket(woo: Connected) -> None:
    data = woo.data
    by_status = {
        "id": "s",
        "reference_key": "woo_commerce:orders_by_status",
        "component": "datatable_v1",
        "metrics": ["orders_total"],
        "dimensions": ["status"],
    }
    keys = (
        "woo_commerce:number_orders_total",
        "woo_commerce:number_pending_orders",
        "woo_commerce:number_avg_order_value",
        "woo_commerce:number_total_sales",
    )
    result = await woo.get_data([by_status, *(widget(k) for k in keys)], comparison=False)
    placed = placed_in(data, PERIODS.start, PERIODS.end)
    counts = Counter(o.status(NOW) for o in placed)
    labels = {"pending": "Pending payment", "on-hold": "On hold", "completed": "Completed"}
    rows = {row[0]: row[1] for row in result["s"]["values"]}
    assert rows["Total"] == len(placed) == result[keys[0]]["values"]
    for status, label in labels.items():
        assert rows.get(label, 0) == counts[status]
    assert result[keys[1]]["values"] == counts["pending"]
    sales = sales_in(data, PERIODS.start, PERIODS.end)
    ticket = sum(o.total for o in sales) / len(sales)
    assert result[keys[2]]["values"] == pytest.approx(ticket, abs=1e-3)
    refunded = sum(
        r.amount
        for r in data.refunds
        if r.at <= NOW and PERIODS.start <= local_day(data, r.at) <= PERIODS.end
    )
    total = sum(o.total for o in sales) - refunded
    assert result[keys[3]]["values"] == pytest.approx(total, abs=0.5)


async def test_categories_from_the_order_lines(woo: Connected) -> None:
    data = woo.data
    result = await woo.get_data([widget("woo_commerce:category_performance")], comparison=False)
    rows = {row[0]: row[1:] for row in result["woo_commerce:category_performance"]["values"]}
    sales = sales_in(data, PERIODS.start, PERIODS.end)
    for category_id, category in data.categories.items():
        lines = [
            (o.id, line)
            for o in sales
            for line in o.lines
            if data.products[line["product_id"]]["category"] == category_id
        ]
        items, net, products, orders, gross = rows[category["name"]]
        assert items == sum(line["quantity"] for _, line in lines)
        assert net == pytest.approx(sum(line["total"] for _, line in lines), abs=0.01)
        assert products == len({line["product_id"] for _, line in lines})
        assert orders == len({order_id for order_id, _ in lines})
        assert gross == pytest.approx(sum(line["subtotal"] for _, line in lines), abs=0.01)


async def test_a_status_change_counts_once_and_a_trashed_order_is_gone(
    fresh_woo: Connected,
) -> None:
    woo = fresh_woo
    data = woo.data
    key = "woo_commerce:number_orders_total"
    first = (await woo.get_data([widget(key)], comparison=False))[key]["values"]
    later = NOW + timedelta(days=40)
    trashed = [
        o
        for o in placed_in(data, PERIODS.start, PERIODS.end)
        if o.trashed_at is not None and NOW < o.trashed_at <= later
    ]
    assert trashed
    woo.clock.set(later)
    second = (await woo.get_data([widget(key)], comparison=False))[key]["values"]
    assert second == first - len(trashed) == len(placed_in(data, PERIODS.start, PERIODS.end, later))
