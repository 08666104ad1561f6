"""Every predefined Google Ads widget through POST /metrics/get-data on an integration
connected to the emulator (90 days and a comparison), and CTR, CPC, CPM, cost per
conversion and ROAS checked against the emulator's raw cells: ratios of the period's
summed micros and counts, never averages of daily or per-row rates."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.networks.google_ads.emulator import data, gaql
from metrics_connect.networks.google_ads.emulator.network import DEMO_CUSTOMER, build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import Periods, get_data, numbered, reference_widget, widget_errors
from tests.networks.widgets import reference_widgets as shared_widgets

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 12:00 in Sao Paulo
END = date(2026, 11, 30)
PERIODS = Periods(END)


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("google_ads", reference_key, **overrides)


def custom_numbers(names: list[str]) -> list[dict[str, Any]]:
    """One number widget a metric no predefined widget uses, asked by name (its id)."""
    return [
        {
            "id": n,
            "reference_key": "gads:custom",
            "component": "number_v1",
            "metrics": [f"metrics.{n}"],
        }
        for n in names
    ]


def raw_cells(start: date, end: date, split_by: str | None = None) -> list[data.Cell]:
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [c for d in days for c in data.cells(DEMO_CUSTOMER, d, NOW, split_by, by_device=False)]


def total(cells: list[data.Cell], name: str) -> float:
    return sum(c.values.get(name, 0) for c in cells)


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
        google_ads_api_base_url="http://googleads.test",
        request_time_budget_seconds=240.0,
    )
    network.controls.calls.reset()
    with frozen_clock(network, NOW) as shared:
        async with connected_network(
            Connected, "google_ads", network, shared, settings, PERIODS
        ) as connection:
            yield connection


async def test_every_predefined_widget_answers_with_a_comparison(connected: Connected) -> None:
    widgets = numbered(shared_widgets("google_ads"))
    assert len(widgets) == 86
    result = await connected.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert "comparison" in body, w["reference_key"]
        if w["component"] == "number_v1":
            assert isinstance(body["values"], int | float), (w["reference_key"], body)
            assert isinstance(body["comparison"]["values"], int | float), w["reference_key"]
        elif w["component"] == "datatable_v1":
            assert len(body["values"]) >= 2, (w["reference_key"], body)
        else:
            assert body["labels"], w["reference_key"]


async def test_rates_are_ratios_of_the_periods_summed_micros(connected: Connected) -> None:
    keys = [
        "clicks",
        "impressions",
        "cost_micros",
        "ctr",
        "average_cpc",
        "average_cpm",
        "cost_per_conversion",
        "roas",
        "conversions",
    ]
    result = await connected.get_data([widget(f"gads:{k}") for k in keys], comparison=False)
    cells = raw_cells(PERIODS.start, PERIODS.end)
    clicks, impressions = total(cells, "clicks"), total(cells, "impressions")
    cost = total(cells, "cost_micros") / 1_000_000
    conversions = total(cells, "conversions")
    value = total(cells, "conversions_value")
    expected = {
        "clicks": clicks,
        "impressions": impressions,
        "cost_micros": cost,
        "ctr": 100 * clicks / impressions,
        "average_cpc": cost / clicks,
        "average_cpm": 1000 * cost / impressions,
        "cost_per_conversion": cost / conversions,
        "roas": value / cost,
        "conversions": conversions,
    }
    for key, figure in expected.items():
        # Figures are answered to 4 decimals.
        assert result[f"gads:{key}"]["values"] == pytest.approx(figure, abs=1e-4), key


async def test_a_campaign_table_recomputes_its_total_row_from_parts(connected: Connected) -> None:
    result = await connected.get_data([widget("gads:top_campaigns")], comparison=False)
    table = result["gads:top_campaigns"]
    headers, rows = table["headers"], table["values"]
    assert rows[-1][0] == "Total" and len(rows) == 7  # six campaigns ran
    clicks = headers.index("Clicks")
    ctr = headers.index("CTR")
    impressions = headers.index("Impressions")
    assert rows[-1][clicks] == sum(r[clicks] for r in rows[:-1])
    total_ctr = 100 * rows[-1][clicks] / rows[-1][impressions]
    assert rows[-1][ctr] == pytest.approx(total_ctr, abs=1e-4)
    types = {r[0]: r[headers.index("Campaign Type")] for r in rows[:-1]}
    assert types["YouTube - Brewing Guides"] == "VIDEO"
    assert types["Search - Brand"] == "SEARCH"


async def test_the_further_metrics_of_the_reference_answer(connected: Connected) -> None:
    """Metrics no predefined widget uses, asked by name: revenue (micros in currency
    units), orders and the average order value as their ratio."""
    names = ["metrics.revenue_micros", "metrics.orders", "metrics.average_order_value_micros"]
    widgets = [
        {"id": n, "reference_key": "gads:custom", "component": "number_v1", "metrics": [n]}
        for n in names
    ]
    result = await connected.get_data(widgets, comparison=False)
    cells = raw_cells(PERIODS.start, PERIODS.end)
    revenue = result["metrics.revenue_micros"]["values"]
    assert revenue == pytest.approx(2.9 * total(cells, "cost_micros") / 1_000_000, rel=1e-6)
    orders = result["metrics.orders"]["values"]
    assert orders == pytest.approx(0.21 * total(cells, "conversions"), rel=1e-4)
    average = result["metrics.average_order_value_micros"]["values"]
    assert average == pytest.approx(revenue / orders, abs=1e-3)


async def test_the_text_ads_table_lists_text_ads_only(connected: Connected) -> None:
    keys = ["gads:ads_summary_table", "gads:text_ads_summary_table"]
    result = await connected.get_data([widget(k) for k in keys], comparison=False)
    every = {r[0] for r in result[keys[0]]["values"][:-1]}
    text = {r[0] for r in result[keys[1]]["values"][:-1]}
    assert text and text < every
    assert all(("RSA" in name or "Text" in name) for name in text)


SEARCH_SHARES = [
    "search_impression_share",
    "search_budget_lost_impression_share",
    "search_rank_lost_impression_share",
]


async def test_impression_shares_are_the_exact_periods_over_eligible_impressions(
    connected: Connected,
) -> None:
    """Impression shares come per exact period (never summed or averaged over days): the
    period's impressions over its eligible ones, computed here from the emulator's parts;
    share + lost to budget + lost to rank is 100%, and each campaign has its own."""
    names = [*SEARCH_SHARES, "search_click_share", "content_impression_share"]
    widgets = custom_numbers(names)
    result = await connected.get_data(widgets, comparison=True)
    cells = raw_cells(PERIODS.start, PERIODS.end)
    eligible = total(cells, "search_eligible_impressions")
    expected = {
        "search_impression_share": total(cells, "search_impressions") / eligible,
        "search_budget_lost_impression_share": total(cells, "search_budget_lost_impressions")
        / eligible,
        "search_rank_lost_impression_share": total(cells, "search_rank_lost_impressions")
        / eligible,
        "search_click_share": total(cells, "search_clicks")
        / total(cells, "search_eligible_clicks"),
        "content_impression_share": total(cells, "content_impressions")
        / total(cells, "content_eligible_impressions"),
    }
    for name, share in expected.items():
        assert result[name]["values"] == pytest.approx(100 * share, abs=1e-4), name
        assert 0 < result[name]["values"] <= 100
        assert result[name]["comparison"]["values"] != result[name]["values"]
    # Parts split by device are whole impressions: within a hundredth of a percent.
    assert sum(result[n]["values"] for n in SEARCH_SHARES) == pytest.approx(100, abs=1e-2)
    table = await connected.get_data(
        [
            {
                "id": "by_campaign",
                "reference_key": "gads:custom",
                "component": "datatable_v1",
                "metrics": [f"metrics.{n}" for n in SEARCH_SHARES],
                "dimensions": ["campaign"],
            }
        ],
        comparison=False,
    )
    rows = table["by_campaign"]["values"][:-1]
    search_rows = [r for r in rows if r[1] is not None and r[1] > 0]
    assert len(search_rows) >= 2
    for row in search_rows:
        assert sum(row[1:4]) == pytest.approx(100, abs=1e-2)


async def test_rates_without_parts_are_the_exact_periods(connected: Connected) -> None:
    """Video quartile rates, Active View CTR and relative CTR: Google answers them without
    their parts, so they are asked per exact period and match the emulator's parts
    summed over the period (quartiles never rise from 25% to 100%)."""
    names = [f"video_quartile_p{q}_rate" for q in (25, 50, 75, 100)]
    names += ["active_view_ctr", "relative_ctr"]
    widgets = custom_numbers(names)
    result = await connected.get_data(widgets, comparison=True)
    cells = raw_cells(PERIODS.start, PERIODS.end)
    video = total(cells, "video_impressions")
    expected = {
        f"video_quartile_p{q}_rate": 100 * total(cells, f"video_quartile_p{q}_views") / video
        for q in (25, 50, 75, 100)
    }
    expected["active_view_ctr"] = (
        100 * total(cells, "active_view_clicks") / total(cells, "active_view_impressions")
    )
    expected["relative_ctr"] = total(cells, "content_clicks") / total(cells, "content_peer_clicks")
    for name, figure in expected.items():
        assert result[name]["values"] == pytest.approx(figure, abs=1e-4), name
        assert "comparison" in result[name]
    quartiles = [result[n]["values"] for n in names[:4]]
    assert quartiles == sorted(quartiles, reverse=True) and 0 < quartiles[-1] < quartiles[0] < 100


async def test_unique_users_are_the_exact_periods_and_refused_beyond_92_days(
    connected: Connected,
) -> None:
    """Unique users and their frequency: the emulator's user-days of Display and Video
    campaigns with their overlap over the period's days, never a sum of days; a period
    over 92 days answers Google's DATE_RANGE_TOO_WIDE as a widget error."""
    names = ["unique_users", "average_impression_frequency_per_user"]
    widgets = custom_numbers(names)
    result = await connected.get_data(widgets, comparison=True)
    cells = raw_cells(PERIODS.start, PERIODS.end)
    days = (PERIODS.end - PERIODS.start).days + 1
    users = total(cells, "user_days") / (1 + gaql.UNIQUES["overlap"] * math.log(days))
    assert result["unique_users"]["values"] == pytest.approx(round(users), abs=1)
    frequency = total(cells, "reach_impressions") / users
    assert result["average_impression_frequency_per_user"]["values"] == pytest.approx(
        frequency, abs=1e-3
    )
    assert result["unique_users"]["values"] < total(cells, "user_days")
    wide = await get_data(
        connected.client,
        connected.headers,
        connected.integration_uuid,
        [{**widgets[0], "id": "wide"}],
        Periods(END, days=120),
        comparison=False,
    )
    assert wide["wide"]["error"]["code"] == "upstream_error", wide
    assert "DATE_RANGE_TOO_WIDE" in wide["wide"]["error"]["message"]


async def test_analytics_linked_site_metrics_are_the_exact_periods(connected: Connected) -> None:
    """Page views per session, seconds on site, bounce rate and new visitors: ratios of the
    linked property's sessions Google answers without their parts, per exact period."""
    names = ["average_page_views", "average_time_on_site", "bounce_rate", "percent_new_visitors"]
    widgets = custom_numbers(names)
    result = await connected.get_data(widgets, comparison=True)
    cells = raw_cells(PERIODS.start, PERIODS.end)
    sessions = total(cells, "ga_sessions")
    expected = {
        "average_page_views": total(cells, "ga_page_views") / sessions,
        "average_time_on_site": total(cells, "ga_seconds") / sessions,
        "bounce_rate": 100 * total(cells, "ga_bounces") / sessions,
        "percent_new_visitors": 100 * total(cells, "ga_new_sessions") / sessions,
    }
    for name, figure in expected.items():
        assert result[name]["values"] == pytest.approx(figure, abs=1e-4), name
        assert result[name]["comparison"]["values"] != result[name]["values"], name


async def test_average_bidding_targets_weigh_each_days_target_by_impressions(
    connected: Connected,
) -> None:
    """Target CPA (currency units) and ROAS change within the period: the period's average
    weighs each day's target by that day's impressions of the campaigns bidding by it."""
    names = ["average_target_cpa_micros", "average_target_roas"]
    widgets = custom_numbers(names)
    result = await connected.get_data(widgets, comparison=True)
    cells = raw_cells(PERIODS.start, PERIODS.end)
    cpa = total(cells, "target_cpa_micros_impressions") / total(cells, "target_cpa_impressions")
    roas = total(cells, "target_roas_impressions") / total(cells, "target_roas_base_impressions")
    assert result[names[0]]["values"] == pytest.approx(round(cpa) / 1_000_000, abs=1e-4)
    assert 14.0 < result[names[0]]["values"] < 16.5  # both targets ran in the period
    assert result[names[1]]["values"] == pytest.approx(roas, abs=1e-4)
    assert 3.8 < result[names[1]]["values"] < 4.4


async def test_utm_tags_come_from_each_ads_final_url_suffix(connected: Connected) -> None:
    widget_ = {
        "id": "utm",
        "reference_key": "gads:custom",
        "component": "datatable_v1",
        "metrics": ["utm_source", "utm_medium", "utm_campaign", "utm_content", "metrics.clicks"],
        "dimensions": ["ad_group_ad"],
    }
    result = await connected.get_data([widget_], comparison=False)
    table = result["utm"]
    rows = {r[0]: r for r in table["values"][:-1]}
    assert rows, table
    for ad in data.AD_GROUPS[DEMO_CUSTOMER]:
        for entity, _ in ad.splits["ad"]:
            row = rows.get(entity["name"])
            if row is None:
                continue  # an ad without traffic in the period
            tags = dict(p.split("=") for p in entity["final_url_suffix"].split("&"))
            expected = [
                tags[k] for k in ("utm_source", "utm_medium", "utm_campaign", "utm_content")
            ]
            assert row[1:5] == expected, row
    mediums = {r[2] for r in rows.values()}
    assert {"cpc", "display", "video"} <= mediums
