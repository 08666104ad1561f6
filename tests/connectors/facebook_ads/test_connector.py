"""The connector's rows equal the emulator's raw truth: daily sums, period uniques,
actions by type, entity and breakdown filters, async report runs."""

from __future__ import annotations

from datetime import date

import pytest

from metrics_connect.connectors.base import FetchRequest, Filter, UpstreamError
from metrics_connect.networks.facebook_ads.connector.hooks import FacebookAdsConnector
from metrics_connect.networks.facebook_ads.emulator.app import FacebookAdsEmulator
from metrics_connect.networks.facebook_ads.emulator.entities import ADS
from metrics_connect.sandbox.registry import SandboxNetwork

START, END = date(2025, 12, 1), date(2025, 12, 20)
CAMPAIGN = "120200000000000105"


async def test_daily_rows_sum_to_the_raw_truth(
    connector: FacebookAdsConnector, emulator: FacebookAdsEmulator
) -> None:
    result = await connector.fetch(FetchRequest("insights_daily", START, END))
    assert len(result.rows) == 20
    truth = emulator.data.period_totals(START, END)
    assert round(sum(r.values["spend"] for r in result.rows), 2) == truth["spend"] / 100  # type: ignore[misc]
    assert sum(r.values["impressions"] for r in result.rows) == truth["impressions"]  # type: ignore[misc]
    link_clicks = sum(r.values.get("actions:link_click", 0) for r in result.rows)  # type: ignore[misc]
    assert link_clicks == truth["a:link_click"]
    assert all(r.keys["account_currency"] == "BRL" for r in result.rows)
    assert result.incomplete_days == set()


async def test_period_reach_is_the_exact_periods_figure(
    connector: FacebookAdsConnector, emulator: FacebookAdsEmulator
) -> None:
    result = await connector.fetch(FetchRequest("insights_period", START, END))
    (row,) = result.rows
    assert row.day is None
    assert row.values["reach"] == emulator.data.period_totals(START, END)["reach"]
    daily = await connector.fetch(FetchRequest("insights_daily", START, END))
    assert row.values["reach"] < sum(r.values["reach"] for r in daily.rows)  # type: ignore[misc]


async def test_entity_filter_queries_the_entitys_node(
    connector: FacebookAdsConnector, emulator: FacebookAdsEmulator
) -> None:
    request = FetchRequest(
        "insights_daily", START, END, filters=(Filter("campaign_id", "EQUAL", CAMPAIGN),)
    )
    calls = connector.plan_calls(request)
    assert calls[0].path == f"{CAMPAIGN}/insights"
    result = await connector.fetch(request)
    ads = [a.id for a in ADS if a.campaign_id == CAMPAIGN]
    truth = emulator.data.period_totals(START, END, ad_ids=ads)
    assert sum(r.values["impressions"] for r in result.rows) == truth["impressions"]  # type: ignore[misc]
    unknown = FetchRequest(
        "insights_daily", START, END, filters=(Filter("campaign_id", "EQUAL", "999"),)
    )
    with pytest.raises(UpstreamError) as raised:
        await connector.fetch(unknown)
    assert raised.value.upstream_code == 100 and "999" in raised.value.message


async def test_publisher_platform_filter_is_pushed_down(
    connector: FacebookAdsConnector, emulator: FacebookAdsEmulator
) -> None:
    platforms = ("facebook", "instagram")
    flt = Filter("publisher_platform", "IN", platforms)
    request = FetchRequest("insights_period", START, END, filters=(flt,))
    assert "filtering" in connector.plan_calls(request)[0].params
    (row,) = (await connector.fetch(request)).rows
    truth = emulator.data.period_totals(START, END, where={"publisher_platform": platforms})
    assert row.values["reach"] == truth["reach"]  # the union's unique reach


async def test_breakdowns_and_entity_levels(
    connector: FacebookAdsConnector, emulator: FacebookAdsEmulator
) -> None:
    by_platform = await connector.fetch(
        FetchRequest("insights_daily", START, END, breakdowns=("publisher_platform",))
    )
    facebook = [r for r in by_platform.rows if r.keys["publisher_platform"] == "facebook"]
    truth = emulator.data.period_totals(START, END, where={"publisher_platform": ["facebook"]})
    assert sum(r.values["clicks"] for r in facebook) == truth["clicks"]  # type: ignore[misc]

    by_ad = await connector.fetch(
        FetchRequest("insights_period", START, END, breakdowns=("ad_name",))
    )
    names = {r.keys["ad_name"] for r in by_ad.rows}
    assert "Vídeo barista 15s" in names
    barista = next(r for r in by_ad.rows if r.keys["ad_name"] == "Vídeo barista 15s")
    assert barista.keys["utm_campaign_tag"] == "trafego_site"
    assert barista.keys["utm_campaign"] == "cafes"
    assert barista.keys["status"] == "ACTIVE"
    counted = await connector.fetch(
        FetchRequest("insights_period", START, END, options=(("level", "ad"),))
    )
    delivering = [a for a in ADS if emulator.data.period_totals(START, END, ad_ids=[a.id])]
    assert sum(r.values["entities"] for r in counted.rows) == len(names) == len(delivering)  # type: ignore[misc]


async def test_actions_by_type(
    connector: FacebookAdsConnector, emulator: FacebookAdsEmulator
) -> None:
    result = await connector.fetch(
        FetchRequest("actions_daily", START, END, breakdowns=("action_type",))
    )
    totals: dict[str, float] = {}
    for row in result.rows:
        totals[row.keys["action_type"]] = totals.get(row.keys["action_type"], 0) + float(
            row.values["actions"] or 0
        )
    truth = emulator.data.period_totals(START, END)
    assert totals["post_engagement"] == truth["a:post_engagement"]
    assert (
        totals["offsite_conversion.fb_pixel_purchase"]
        == truth["a:offsite_conversion.fb_pixel_purchase"]
    )


async def test_heavy_queries_run_as_async_reports(
    connector: FacebookAdsConnector, emulator: FacebookAdsEmulator, network: SandboxNetwork
) -> None:
    request = FetchRequest("insights_daily", START, END, breakdowns=("ad_name", "age", "gender"))
    assert connector.plan_calls(request)[0].method == "POST"
    result = await connector.fetch(request)
    assert network.controls.calls.by_endpoint["POST insights (async)"] == 1
    assert network.controls.calls.by_endpoint["GET report_run"] >= 2
    truth = emulator.data.period_totals(START, END)
    assert sum(r.values["impressions"] for r in result.rows) == truth["impressions"]  # type: ignore[misc]


async def test_too_much_data_falls_back_to_an_async_report(
    connector: FacebookAdsConnector, emulator: FacebookAdsEmulator, network: SandboxNetwork
) -> None:
    emulator.switches.sync_cell_limit = 10
    result = await connector.fetch(FetchRequest("insights_daily", START, END))
    assert len(result.rows) == 20
    assert network.controls.calls.by_endpoint["GET insights"] == 1  # refused
    assert network.controls.calls.by_endpoint["POST insights (async)"] == 1


async def test_today_is_incomplete_and_account_info(connector: FacebookAdsConnector) -> None:
    result = await connector.fetch(
        FetchRequest("insights_daily", date(2026, 1, 10), date(2026, 1, 15))
    )
    assert result.incomplete_days == {date(2026, 1, 15)}
    info = await connector.account_info()
    assert (info.currency, info.timezone) == ("BRL", "America/Sao_Paulo")
    snapshot = await connector.fetch(
        FetchRequest("account_snapshot", date(2026, 1, 15), date(2026, 1, 15))
    )
    values = snapshot.rows[0].values
    assert values["available_balance"] == round(
        values["spend_cap"] - values["amount_spent"] - values["balance"],
        2,  # type: ignore[operator]
    )


def test_daily_requests_are_chunked_with_daily_increments(
    connector: FacebookAdsConnector,
) -> None:
    calls = connector.plan_calls(
        FetchRequest("insights_daily", date(2025, 9, 1), date(2025, 11, 9))
    )
    assert len(calls) == 3  # 31 + 31 + 8 days
    assert {c.params["time_increment"] for c in calls} == {"1"}
    assert '"until": "2025-11-09"' in calls[-1].params["time_range"]
    period = connector.plan_calls(
        FetchRequest("insights_period", date(2025, 9, 1), date(2025, 11, 9))
    )
    assert len(period) == 1 and period[0].params["time_increment"] == "all_days"
