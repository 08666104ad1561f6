"""The Pinterest Ads connector's own rules: the rate-limit headers pace the next call,
and the report flow's polls and download follow its creation."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.connectors.base import ConnectorContext, FetchRequest
from metrics_connect.networks.pinterest_ads.connector.hooks import PinterestAdsConnector
from metrics_connect.networks.pinterest_ads.emulator import data
from metrics_connect.networks.pinterest_ads.emulator.app import PinterestAdsEmulator, create_app
from metrics_connect.settings import Settings

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def connector(answer: httpx.AsyncBaseTransport) -> PinterestAdsConnector:
    ctx = ConnectorContext(
        integration_uuid="t",
        external_id="549755885175",
        credentials={"access_token": "sandbox-t"},
        timezone="UTC",
        http=httpx.AsyncClient(transport=answer),
        base_url="http://pinterest.test",
        settings=Settings(upstream_retry_budget_seconds=3.0),
    )
    return PinterestAdsConnector(ctx)


async def test_an_exhausted_window_holds_the_next_call_until_its_reset() -> None:
    moments: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        moments.append(time.monotonic())
        headers = {"X-RateLimit-Limit": "1000", "X-RateLimit-Reset": "0.4"}
        headers["X-RateLimit-Remaining"] = "0" if len(moments) == 1 else "999"
        return httpx.Response(200, json={"id": "549755885175"}, headers=headers)

    pinterest = connector(httpx.MockTransport(answer))
    for _ in range(3):
        await pinterest.client.get("/v5/ad_accounts/549755885175", {})
    assert moments[1] - moments[0] >= 0.39  # waited for the window's reset
    assert moments[2] - moments[1] < 0.3  # then no more: calls were left


async def test_a_report_is_created_polled_until_finished_and_downloaded() -> None:
    """Days older than 90: one report; its polls and download follow the planned call."""
    emulator = PinterestAdsEmulator()
    emulator.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    try:
        pinterest = connector(httpx.ASGITransport(app=create_app(emulator)))
        request = FetchRequest("account_daily", date(2026, 3, 1), date(2026, 3, 31))
        planned = pinterest.plan_calls(request)
        result = await pinterest.fetch(request)
    finally:
        clock.set_clock(None)
    assert [(c.method, c.path) for c in planned] == [
        ("POST", "/v5/ad_accounts/549755885175/reports")
    ]
    assert emulator.controls.calls.by_endpoint == {"reports.create": 1}
    assert emulator.followups.by_endpoint == {"reports.get": 2, "reports.download": 1}
    assert len({row.day for row in result.rows}) == 31
    spend = sum(float(row.values["spend"]) for row in result.rows)
    days = [date(2026, 3, d) for d in range(1, 32)]
    micros = sum(
        data.ad_day(c, ad, d).get("SPEND_IN_MICRO_DOLLAR", 0)
        for c, _, ad in data.ads_of(data.CAMPAIGNS)
        for d in days
    )
    assert spend == pytest.approx(micros / 1_000_000)
