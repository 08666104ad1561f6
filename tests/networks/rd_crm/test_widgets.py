"""Every predefined RD Station CRM widget through POST /metrics/get-data on an
integration connected to the emulator, and figures computed independently from the
emulator's raw deals and tasks: won value by close date, the funnel, a reason's share of
the losses, tasks done; a deal edited or deleted after a sync counted with its latest
values or gone (the full listing's `listed_all`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from metrics_connect.engine.records import parse_instant
from metrics_connect.networks.rd_crm.emulator.data import RdCrmData
from metrics_connect.networks.rd_crm.emulator.network import build_sandbox
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
Fields = dict[str, Any]


def widget(key: str) -> dict[str, Any]:
    return reference_widget("rd_crm", key)


@dataclass
class Connected(ConnectedNetwork):
    data: RdCrmData

    def live(self, name: str) -> list[Fields]:
        return [f for _, f in self.data.live(name, self.clock.current)]


def in_period(value: Any, start: date = PERIODS.start, end: date = PERIODS.end) -> bool:
    instant = parse_instant(value)
    return instant is not None and start <= instant.astimezone(ZONE).date() <= end


@pytest.fixture
async def rd(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, rd_crm_api_base_url="http://rdcrm.test")
    sandbox = build_sandbox()
    with frozen_clock(sandbox, NOW) as shared:
        async with connected_network(
            Connected, "rd_crm", sandbox, shared, settings, PERIODS
        ) as connected:
            yield connected


async def test_every_predefined_widget_answers_with_a_comparison(rd: Connected) -> None:
    widgets = numbered(reference_widgets("rd_crm"))
    assert len(widgets) == 30
    result = await rd.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, [], 0), w["reference_key"]
        assert "comparison" in body, w["reference_key"]
    funnel = result["w2"]["values"]
    assert funnel[0] >= funnel[1] >= funnel[2] >= funnel[3] >= funnel[4] > 0


async def test_won_and_lost_deals_by_close_date(rd: Connected) -> None:
    keys = (
        "won_deals",
        "won_deals_value",
        "lost_deals",
        "lost_deals_value",
        "average_ticket",
        "created_deals",
        "conversion_rate",
        "open_deals",
        "paused_deals",
    )
    result = await rd.get_data([widget(f"rd_crm:{k}") for k in keys])
    deals = rd.live("deals")
    for values, (start, end) in (
        (lambda k: result[f"rd_crm:{k}"]["values"], (PERIODS.start, PERIODS.end)),
        (
            lambda k: result[f"rd_crm:{k}"]["comparison"]["values"],
            (PERIODS.comparison_start, PERIODS.comparison_end),
        ),
    ):
        closed = [d for d in deals if in_period(d["closed_at"], start, end)]
        won = [d for d in closed if d["win"] is True]
        lost = [d for d in closed if d["win"] is False]
        created = [d for d in deals if in_period(d["created_at"], start, end)]
        assert values("won_deals") == len(won) > 0
        assert values("lost_deals") == len(lost) > 0
        value = sum(d["amount_total"] for d in won)
        assert values("won_deals_value") == pytest.approx(value, abs=0.01)
        assert values("lost_deals_value") == pytest.approx(
            sum(d["amount_total"] for d in lost), abs=0.01
        )
        assert values("average_ticket") == pytest.approx(value / len(won), abs=1e-3)
        assert values("created_deals") == len(created)
        assert values("conversion_rate") == pytest.approx(100 * len(won) / len(created), abs=1e-3)
        assert values("open_deals") == sum(1 for d in created if d["win"] is None)
        assert values("paused_deals") == sum(1 for d in created if d["win"] is None and d["hold"])


async def test_lost_reasons_share_and_products_from_the_raw_deals(rd: Connected) -> None:
    keys = ("rd_crm:lost_reasons", "rd_crm:value_of_sales", "rd_crm:pipeline_summary")
    result = await rd.get_data([widget(k) for k in keys], comparison=False)
    deals = rd.live("deals")
    lost = [d for d in deals if d["win"] is False and in_period(d["closed_at"])]
    rows = {row[0]: row[1:] for row in result["rd_crm:lost_reasons"]["values"]}
    for reason in {d["deal_lost_reason"]["name"] for d in lost}:
        count = sum(1 for d in lost if d["deal_lost_reason"]["name"] == reason)
        assert rows[reason][0] == count
        assert rows[reason][1] == pytest.approx(100 * count / len(lost), abs=1e-3)
    won = [d for d in deals if d["win"] is True and in_period(d["closed_at"])]
    by_product: dict[str, float] = {}
    for deal in won:
        for line in deal["deal_products"]:
            by_product[line["name"]] = by_product.get(line["name"], 0.0) + line["total"]
    pie = result["rd_crm:value_of_sales"]
    slices = dict(zip(pie["labels"], pie["values"][0]["data"], strict=True))
    assert slices == pytest.approx(by_product, abs=0.01)
    created = [d for d in deals if in_period(d["created_at"])]
    order = {s["id"]: i + 1 for p in rd.data.pipelines for i, s in enumerate(p["stages"])}
    reached = [sum(1 for d in created if order[d["deal_stage"]["id"]] >= n) for n in range(1, 6)]
    funnel = result["rd_crm:pipeline_summary"]["values"]
    assert funnel[:5] == reached
    assert funnel[5] == sum(1 for d in created if d["win"] is True)


async def test_tasks_and_calls_from_the_raw_tasks(rd: Connected) -> None:
    keys = ("rd_crm:created_tasks", "rd_crm:completed_tasks", "rd_crm:completed_calls")
    result = await rd.get_data([widget(k) for k in keys], comparison=False)
    tasks = rd.live("tasks")
    assert result["rd_crm:created_tasks"]["values"] == sum(
        1 for t in tasks if in_period(t["created_at"])
    )
    done = [t for t in tasks if t["done"] and in_period(t["done_date"])]
    assert result["rd_crm:completed_tasks"]["values"] == len(done) > 0
    assert result["rd_crm:completed_calls"]["values"] == sum(1 for t in done if t["type"] == "call")


async def test_an_edited_and_a_deleted_deal_after_a_sync(rd: Connected) -> None:
    key = "rd_crm:created_deals"
    value_key = "rd_crm:won_deals_value"
    first = await rd.get_data([widget(key), widget(value_key)], comparison=False)
    records = [r for r in rd.data.records["deals"] if r.archived_at is None and r.created <= NOW]
    created = [r for r in records if in_period(r.state(NOW)["created_at"])]  # type: ignore[index]
    doomed = created[0]
    won = next(
        r
        for r in records
        if r.state(NOW)["win"] is True and in_period(r.state(NOW)["closed_at"])  # type: ignore[index]
    )
    later = NOW + timedelta(hours=2)
    doomed.archived_at = NOW + timedelta(hours=1)
    won.change(NOW + timedelta(hours=1), {"amount_total": won.state(NOW)["amount_total"] + 500})  # type: ignore[index]
    rd.data.forget()
    rd.clock.set(later)
    second = await rd.get_data([widget(key), widget(value_key)], comparison=False)
    assert second[key]["values"] == first[key]["values"] - 1
    assert second[value_key]["values"] == pytest.approx(first[value_key]["values"] + 500)
