"""Every predefined Search Console widget through POST /metrics/get-data on an integration
connected to the emulator, and CTR and average position checked against the emulator's
raw cells: ratios of the period's sums, never averages of daily values."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect import clock
from metrics_connect.networks.search_console.emulator.data import Cell, day_cells
from metrics_connect.networks.search_console.emulator.network import build_sandbox
from metrics_connect.networks.search_console.sync.demo import prepare_demo
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from metrics_connect.sync.service import load_integration, run_sync
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import Periods, numbered, reference_widget, widget_errors
from tests.networks.widgets import reference_widgets as shared_widgets

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles
END = date(2026, 11, 16)  # final data (ends three days before today)
PERIODS = Periods(END)
START, COMPARISON_START, COMPARISON_END = (
    PERIODS.start,
    PERIODS.comparison_start,
    PERIODS.comparison_end,
)
DEMO_TRAFFIC = "acme"


def reference_widgets() -> list[dict[str, Any]]:
    return shared_widgets("search_console")


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("search_console", reference_key, **overrides)


def raw_cells(start: date = START, end: date = END) -> list[tuple[date, Cell]]:
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [(d, c) for d in days for c in day_cells(DEMO_TRAFFIC, "web", d)]


Connected = ConnectedNetwork


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
async def connected(
    network: SandboxNetwork,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    settings = settings_factory(
        sqlite_url,
        search_console_api_base_url="http://searchconsole.test",
        request_time_budget_seconds=240.0,
    )
    network.controls.calls.reset()
    with frozen_clock(network, NOW) as shared:
        async with connected_network(
            Connected, "search_console", network, shared, settings, PERIODS
        ) as connection:
            yield connection


async def test_every_predefined_widget_answers_with_a_comparison(connected: Connected) -> None:
    widgets = numbered(reference_widgets())
    assert len(widgets) == 11
    result = await connected.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert "comparison" in body, w["reference_key"]
        if w["component"] == "number_v1":
            assert isinstance(body["values"], int | float), w["reference_key"]
            assert isinstance(body["comparison"]["values"], int | float), w["reference_key"]
        elif w["component"] == "datatable_v1":
            assert len(body["values"]) > 2, w["reference_key"]
        else:
            assert body["labels"], w["reference_key"]


async def test_period_ctr_and_position_are_ratios_of_the_raw_sums(connected: Connected) -> None:
    result = await connected.get_data(
        [
            widget("search_console:clicks"),
            widget("search_console:impressions"),
            widget("search_console:ctr"),
            widget("search_console:position"),
        ]
    )
    cells = [c for _, c in raw_cells()]
    clicks = sum(c.clicks for c in cells)
    impressions = sum(c.impressions for c in cells)
    position = sum(c.position_sum for c in cells) / impressions
    assert result["search_console:clicks"]["values"] == clicks
    assert result["search_console:impressions"]["values"] == impressions
    assert result["search_console:ctr"]["values"] == pytest.approx(
        100 * clicks / impressions, abs=1e-4
    )
    assert result["search_console:position"]["values"] == pytest.approx(position, abs=1e-4)
    before = [c for _, c in raw_cells(COMPARISON_START, COMPARISON_END)]
    before_position = sum(c.position_sum for c in before) / sum(c.impressions for c in before)
    assert result["search_console:position"]["comparison"]["values"] == pytest.approx(
        before_position, abs=1e-4
    )

    # An average of the daily figures would be another number: the test tells them apart.
    by_day: dict[date, list[Cell]] = {}
    for day, cell in raw_cells():
        by_day.setdefault(day, []).append(cell)
    daily_positions = [
        sum(c.position_sum for c in cs) / sum(c.impressions for c in cs) for cs in by_day.values()
    ]
    daily_ctrs = [
        sum(c.clicks for c in cs) / sum(c.impressions for c in cs) for cs in by_day.values()
    ]
    mean_position = sum(daily_positions) / len(daily_positions)
    mean_ctr = 100 * sum(daily_ctrs) / len(daily_ctrs)
    assert abs(mean_position - position) > 1e-3
    assert abs(mean_ctr - 100 * clicks / impressions) > 1e-3
    assert result["search_console:position"]["values"] != pytest.approx(mean_position, abs=1e-4)
    assert result["search_console:ctr"]["values"] != pytest.approx(mean_ctr, abs=1e-4)


async def test_the_chart_over_time_has_each_days_own_ratios(connected: Connected) -> None:
    result = await connected.get_data(
        [widget("search_console:ctr_and_position_over_time")], comparison=False
    )
    chart = result["search_console:ctr_and_position_over_time"]
    assert chart["labels"][0] == START.isoformat() and len(chart["labels"]) == 90
    series = {s["label"] if "label" in s else s["name"]: s["data"] for s in chart["values"]}
    by_day: dict[date, list[Cell]] = {}
    for day, cell in raw_cells():
        by_day.setdefault(day, []).append(cell)
    expected_position = [
        sum(c.position_sum for c in by_day[START + timedelta(days=i)])
        / sum(c.impressions for c in by_day[START + timedelta(days=i)])
        for i in range(90)
    ]
    assert series["Average Position"] == pytest.approx(expected_position, abs=1e-4)


async def test_query_table_rows_are_weighted_per_query(connected: Connected) -> None:
    result = await connected.get_data([widget("search_console:query")], comparison=False)
    table = result["search_console:query"]
    assert table["headers"] == ["Query", "Clicks", "Impressions", "CTR", "Average Position"]
    rows = [row for row in table["values"] if row[0] != "Total"]
    per_query: dict[str, list[float]] = {}
    for _, cell in raw_cells():
        if cell.query:
            sums = per_query.setdefault(cell.query, [0, 0, 0.0])
            sums[0] += cell.clicks
            sums[1] += cell.impressions
            sums[2] += cell.position_sum
    assert {row[0] for row in rows} == set(per_query)
    for query, clicks, impressions, ctr, position in rows:
        c, i, p = per_query[query]
        assert (clicks, impressions) == (c, i)
        assert ctr == pytest.approx(100 * c / i, abs=1e-4)
        assert position == pytest.approx(p / i, abs=1e-4)
    clicks_order = [row[1] for row in rows]
    assert clicks_order == sorted(clicks_order, reverse=True)
    # Anonymized queries are in the property's total, never in a row.
    total_clicks = sum(c.clicks for _, c in raw_cells())
    assert sum(clicks_order) < total_clicks


async def test_one_query_per_fetch_for_the_whole_period(connected: Connected) -> None:
    await connected.get_data([widget("search_console:clicks")], comparison=False)
    assert connected.sandbox.controls.calls.by_endpoint["searchanalytics.query"] == 1


@pytest.mark.parametrize(
    ("switch", "code"),
    [("expired_tokens", "integration_expired"), ("revoked_tokens", "integration_revoked")],
)
async def test_token_failures_end_in_the_integrations_status(
    connected: Connected, switch: str, code: str
) -> None:
    tokens: set[str] = getattr(connected.sandbox.controls.switches, switch)
    tokens.add(DEMO_ACCESS_TOKEN)
    try:
        result = await connected.get_data([widget("search_console:clicks")], comparison=False)
    finally:
        tokens.discard(DEMO_ACCESS_TOKEN)
    assert result["search_console:clicks"]["error"]["code"] == code
    # The integration is now expired/revoked: the next request says so at once.
    again = await connected.client.post(
        "/metrics/get-data",
        json={
            "customer_integration": connected.integration_uuid,
            "start": START.isoformat(),
            "end": END.isoformat(),
            "metrics": [widget("search_console:clicks")],
        },
        headers=connected.headers,
    )
    assert again.status_code == 409, again.text
    assert again.json()["status"] == code.removeprefix("integration_")


async def test_a_rate_limit_beyond_the_budget_fails_the_widget_only(connected: Connected) -> None:
    switches = connected.sandbox.controls.switches
    switches.rate_limit_next, switches.retry_after_seconds = 1, 3600
    try:
        result = await connected.get_data(
            [widget("search_console:clicks"), widget("search_console:country")], comparison=False
        )
    finally:
        switches.rate_limit_next, switches.retry_after_seconds = 0, 1
    codes = {k: v.get("error", {}).get("code") for k, v in result.items()}
    assert sorted(codes.values(), key=str) == [None, "upstream_rate_limited"]


async def test_the_sync_keeps_the_days_the_api_forgets_after_16_months(
    connected: Connected,
) -> None:
    integration = await load_integration(connected.runtime, connected.integration_uuid)
    assert integration is not None
    outcome = await run_sync(connected.runtime, integration, NOW)
    assert outcome.ok and outcome.stored > 0
    end = date(2026, 11, 16)  # the last settled day (Pacific time) at NOW
    start = end - timedelta(days=29)
    later = NOW + timedelta(days=500)
    connected.sandbox.controls.clock.set(later)
    clock.set_clock(lambda: later)
    widgets = [
        widget("search_console:clicks"),
        widget("search_console:position"),
        widget("search_console:clicks_by_device"),
    ]
    result = await connected.get_data(widgets, comparison=False, start=start, end=end)
    cells = [c for _, c in raw_cells(start, end)]
    impressions = sum(c.impressions for c in cells)
    assert result["search_console:clicks"]["values"] == sum(c.clicks for c in cells)
    assert result["search_console:position"]["values"] == pytest.approx(
        sum(c.position_sum for c in cells) / impressions, abs=1e-4
    )
    devices = result["search_console:clicks_by_device"]
    by_device = dict(zip(devices["labels"], devices["values"][0]["data"], strict=True))
    assert by_device["Mobile"] == sum(c.clicks for c in cells if c.device == "MOBILE")
    # The emulator no longer serves those days: the figures came from the archive.
    assert connected.sandbox.controls.calls.by_endpoint["searchanalytics.query"] == 3


async def test_explain_shows_pacific_days_and_the_calls_fetch_makes(connected: Connected) -> None:
    body = {
        "customer_integration": connected.integration_uuid,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "metrics": [widget("search_console:query"), widget("search_console:clicks")],
    }
    response = await connected.client.post(
        "/metrics/get-data?explain=true", json=body, headers=connected.headers
    )
    assert response.status_code == 200, response.text
    explain = response.json()["explain"]
    assert explain["integration"]["days_timezone"] == "America/Los_Angeles"
    assert connected.sandbox.controls.calls.total == 0
    await connected.get_data(body["metrics"], comparison=False)
    made = connected.sandbox.controls.calls.by_endpoint["searchanalytics.query"]
    assert explain["upstream_calls"] == made == 2


async def test_the_demo_replay_archives_what_the_api_no_longer_serves(
    connected: Connected,
) -> None:
    await prepare_demo(connected.runtime, connected.integration_uuid, connected.sandbox)
    assert connected.sandbox.controls.clock.now() == NOW  # the sandbox clock is back
    start, end = date(2024, 3, 1), date(2024, 3, 31)  # 2024 is beyond the API's 16 months
    connected.sandbox.controls.calls.reset()
    result = await connected.get_data(
        [widget("search_console:clicks"), widget("search_console:country")],
        comparison=False,
        start=start,
        end=end,
    )
    cells = [c for _, c in raw_cells(start, end)]
    assert result["search_console:clicks"]["values"] == sum(c.clicks for c in cells)
    countries = {row[0]: row[1] for row in result["search_console:country"]["values"]}
    assert countries["bra"] == sum(c.clicks for c in cells if c.country == "bra")
    assert connected.sandbox.controls.calls.total == 0
