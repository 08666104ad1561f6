"""The connector's calls on the emulator: 30-day windows for daily reports, the exact
period for reach, heavy queries as asynchronous report tasks, explain's calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from metrics_connect.connectors.base import ConnectorContext, FetchRequest, Filter
from metrics_connect.networks.tiktok_ads.connector.hooks import TikTokAdsConnector
from metrics_connect.networks.tiktok_ads.emulator.network import build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
END = date(2026, 11, 19)


@pytest.fixture
async def on_emulator() -> AsyncIterator[tuple[TikTokAdsConnector, SandboxNetwork]]:
    network = build_sandbox()
    network.controls.clock.set(NOW)
    account = network.demo_account
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=network.app)) as http:
        ctx = ConnectorContext(
            integration_uuid="tt-ads",
            external_id=account.external_id,
            credentials=dict(account.credentials),
            timezone=account.timezone,
            http=http,
            settings=Settings(upstream_retry_budget_seconds=2.0),
            base_url="http://tiktok-ads.test",
        )
        yield TikTokAdsConnector(ctx, now=lambda: NOW), network


async def test_a_90_day_daily_report_is_three_30_day_calls(
    on_emulator: tuple[TikTokAdsConnector, SandboxNetwork],
) -> None:
    connector, network = on_emulator
    request = FetchRequest("report_daily", END - timedelta(days=89), END, ("campaign_name",))
    planned = connector.plan_calls(request)
    assert [(c.params["start_date"], c.params["end_date"]) for c in planned] == [
        ("2026-08-22", "2026-09-20"),
        ("2026-09-21", "2026-10-20"),
        ("2026-10-21", "2026-11-19"),
    ]
    assert planned[0].params["data_level"] == "AUCTION_CAMPAIGN"
    network.controls.calls.reset()
    result = await connector.fetch(request)
    assert network.controls.calls.by_endpoint == {"report.integrated": 3}
    data = network.emulator.data
    spend = sum(
        data.day_cell(ad, END - timedelta(days=i), NOW).get("spend", 0)
        for i in range(90)
        for ad in data.ads
    )
    assert sum(float(r.values["spend"]) for r in result.rows) == pytest.approx(spend, abs=0.05)
    assert all(r.keys["campaign_id"] and r.keys["campaign_name"] for r in result.rows)


async def test_a_campaign_filter_goes_upstream_as_filtering(
    on_emulator: tuple[TikTokAdsConnector, SandboxNetwork],
) -> None:
    connector, network = on_emulator
    campaign = "1780000000000000102"
    request = FetchRequest(
        "report_daily",
        END - timedelta(days=6),
        END,
        filters=(Filter("campaign_id", "EQUAL", campaign),),
    )
    assert '"campaign_ids"' in connector.plan_calls(request)[0].params["filtering"]
    result = await connector.fetch(request)
    data = network.emulator.data
    expected = sum(
        data.day_cell(ad, END - timedelta(days=i), NOW).get("impressions", 0)
        for i in range(7)
        for ad in data.ads
        if ad.campaign.campaign_id == campaign
    )
    assert sum(r.values["impressions"] for r in result.rows) == expected > 0


async def test_a_heavy_query_runs_as_an_async_report_task(
    on_emulator: tuple[TikTokAdsConnector, SandboxNetwork],
) -> None:
    connector, network = on_emulator
    heavy = FetchRequest("audience_daily", END - timedelta(days=9), END, ("ad_name", "province_id"))
    planned = connector.plan_calls(heavy)
    assert [(c.method, c.path) for c in planned] == [("POST", "open_api/v1.3/report/task/create/")]
    network.controls.calls.reset()
    by_task = await connector.fetch(heavy)
    calls = network.controls.calls.by_endpoint
    assert calls["report.task.create"] == 1 and calls["report.task.download"] == 1
    assert calls["report.task.check"] >= 3 and "report.integrated" not in calls
    # The same rows as the synchronous report's pages.
    light = FetchRequest("audience_daily", END - timedelta(days=9), END, ("province_id",))
    sync_rows = await connector.fetch(light)
    by_province: dict[str, float] = {}
    for row in by_task.rows:
        by_province[row.keys["province_id"]] = by_province.get(row.keys["province_id"], 0) + float(
            row.values["impressions"]
        )
    expected: dict[str, float] = {}
    for row in sync_rows.rows:
        expected[row.keys["province_id"]] = expected.get(row.keys["province_id"], 0) + float(
            row.values["impressions"]
        )
    assert by_province == expected


async def test_reach_is_asked_for_the_exact_period_in_one_call(
    on_emulator: tuple[TikTokAdsConnector, SandboxNetwork],
) -> None:
    connector, network = on_emulator
    request = FetchRequest("report_period", END - timedelta(days=89), END)
    planned = connector.plan_calls(request)
    assert len(planned) == 1 and "stat_time_day" not in planned[0].params["dimensions"]
    result = await connector.fetch(request)
    data = network.emulator.data
    cells = [
        (ad, END - timedelta(days=i), data.day_cell(ad, END - timedelta(days=i), NOW))
        for i in range(90)
        for ad in data.ads
    ]
    assert [r.values["reach"] for r in result.rows] == [data.reach(cells)]


async def test_a_rate_limit_in_a_200_body_is_retried(
    on_emulator: tuple[TikTokAdsConnector, SandboxNetwork],
) -> None:
    connector, network = on_emulator
    network.controls.switches.rate_limit_next = 1
    network.controls.calls.reset()
    result = await connector.fetch(FetchRequest("report_daily", END, END))
    assert result.rows and network.controls.calls.by_endpoint["report.integrated"] == 2
