"""Every predefined X Ads widget through POST /metrics/get-data on an integration connected
to the emulator, and the figures checked against the emulator's raw days: a 30-day
period assembled from 7-day synchronous spans, a 90-day one from asynchronous jobs,
campaign rows, and costs and rates as ratios of the period's sums."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.networks.twitter_ads.emulator.app import XAdsEmulator
from metrics_connect.networks.twitter_ads.emulator.data import (
    account_day,
    campaign_day,
    campaigns_of,
)
from metrics_connect.networks.twitter_ads.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.oauth_server import sandbox_client
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

SLUG = "twitter_ads"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
END = date(2026, 11, 16)  # settled: X reconciles billing for three days
PERIODS = Periods(END)
ACCOUNT = "18ce54d4x5t"
# A loopback host: the OAuth 1.0a signer refuses plain http anywhere else.
API = "http://127.0.0.1:9"


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget(SLUG, reference_key, **overrides)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def raw(start: date, end: date) -> dict[str, int]:
    """The account's sums over the days, straight from the emulator's data."""
    out: dict[str, int] = {}
    for day in days(start, end):
        for name, value in account_day(ACCOUNT, day).items():
            out[name] = out.get(name, 0) + value
    return out


@dataclass
class Connected(ConnectedNetwork):
    emulator: XAdsEmulator = field(init=False)  # the module's, to reach its jobs and switches

    @property
    def calls(self) -> dict[str, int]:
        return dict(self.sandbox.controls.calls.by_endpoint)


@pytest.fixture(scope="module")
def emulator() -> XAdsEmulator:
    return XAdsEmulator()


@pytest.fixture(scope="module")
def network(emulator: XAdsEmulator) -> SandboxNetwork:
    return build_sandbox(emulator=emulator)


@pytest.fixture
async def connected(
    network: SandboxNetwork,
    emulator: XAdsEmulator,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    consumer_key, consumer_secret = sandbox_client("x_login")
    settings = settings_factory(
        sqlite_url,
        twitter_ads_api_base_url=API,
        x_login_client_id=consumer_key,
        x_login_client_secret=consumer_secret,
        request_time_budget_seconds=240.0,
        upstream_retry_budget_seconds=3.0,  # a failing upstream fails its widget soon
    )
    network.controls.calls.reset()
    emulator.window.used.clear()
    with frozen_clock(network, NOW) as shared:
        async with connected_network(
            Connected, SLUG, network, shared, settings, PERIODS
        ) as connection:
            connection.emulator = emulator
            yield connection


async def test_every_predefined_widget_answers_with_a_comparison(connected: Connected) -> None:
    widgets = numbered(reference_widgets(SLUG))
    assert len(widgets) == 17
    result = await connected.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert "comparison" in body, w["reference_key"]
        if w["component"] == "number_v1":
            assert isinstance(body["values"], int | float), w["reference_key"]
            assert isinstance(body["comparison"]["values"], int | float), w["reference_key"]
        else:
            assert len(body["values"]) >= 5, w["reference_key"]
    # 90 days and the 90 before: two asynchronous jobs per dataset fetch, no sync calls.
    assert connected.calls.get("stats", 0) == 0
    assert connected.calls["stats.jobs.create"] == connected.calls["download"]


async def test_a_30_day_period_from_7_day_spans_equals_the_raw_sum(connected: Connected) -> None:
    start, end = END - timedelta(days=29), END
    keys = ["tads:impressions", "tads:engagements", "tads:spend", "tads:url_clicks"]
    body = {
        "customer_integration": connected.integration_uuid,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "metrics": [widget(k) for k in keys],
    }
    explained = await connected.client.post(
        "/metrics/get-data?explain=true", json=body, headers=connected.headers
    )
    assert explained.status_code == 200, explained.text
    assert explained.json()["explain"]["upstream_calls"] == 5  # 7 + 7 + 7 + 7 + 2 days
    result = await connected.get_data([widget(k) for k in keys], False, start, end)
    sums = raw(start, end)
    assert result["tads:impressions"]["values"] == sums["impressions"]
    assert result["tads:engagements"]["values"] == sums["engagements"]
    assert result["tads:url_clicks"]["values"] == sums["url_clicks"]
    assert result["tads:spend"]["values"] == pytest.approx(
        sums["billed_charge_local_micro"] / 1e6, abs=1e-4
    )
    assert connected.calls == {"stats": 5}


async def test_a_90_day_period_from_async_jobs_equals_the_raw_sum(connected: Connected) -> None:
    keys = ["tads:impressions", "tads:replies", "tads:cpe", "tads:cpc", "tads:engagement_rate"]
    result = await connected.get_data([widget(k) for k in keys])
    now, before = raw(PERIODS.start, END), raw(PERIODS.comparison_start, PERIODS.comparison_end)
    spend = now["billed_charge_local_micro"] / 1e6
    assert result["tads:impressions"]["values"] == now["impressions"]
    assert result["tads:replies"]["comparison"]["values"] == before["replies"]
    assert result["tads:cpe"]["values"] == pytest.approx(spend / now["engagements"], abs=1e-4)
    assert result["tads:cpc"]["values"] == pytest.approx(spend / now["clicks"], abs=1e-4)
    rate = 100 * now["engagements"] / now["impressions"]
    assert result["tads:engagement_rate"]["values"] == pytest.approx(rate, abs=1e-4)
    before_rate = 100 * before["engagements"] / before["impressions"]
    assert result["tads:engagement_rate"]["comparison"]["values"] == pytest.approx(
        before_rate, abs=1e-4
    )
    # A mean of the daily rates is another number: the test tells them apart.
    daily = [account_day(ACCOUNT, d) for d in days(PERIODS.start, END)]
    mean_rate = sum(100 * d["engagements"] / d["impressions"] for d in daily) / len(daily)
    assert abs(mean_rate - rate) > 1e-3
    assert connected.calls["stats.jobs.create"] == 2 and "stats" not in connected.calls


async def test_campaign_rows_are_each_campaigns_raw_sums(connected: Connected) -> None:
    start, end = END - timedelta(days=29), END
    result = await connected.get_data([widget("tads:featured_campaigns")], False, start, end)
    table = result["tads:featured_campaigns"]
    assert table["headers"][0] == "Campaign"
    rows = [row for row in table["values"] if row[0] != "Total"]
    expected: dict[str, dict[str, int]] = {}
    for campaign in campaigns_of(ACCOUNT):
        sums: dict[str, int] = {}
        for day in days(start, end):
            for name, value in campaign_day(ACCOUNT, campaign, day).items():
                sums[name] = sums.get(name, 0) + value
        if sums["impressions"]:
            expected[campaign.name] = sums
    assert {row[0] for row in rows} == set(expected)  # the ended campaigns have no row
    for name, likes, replies, retweets, spend, clicks, engagements in rows:
        sums = expected[name]
        assert (likes, replies, retweets) == (sums["likes"], sums["replies"], sums["retweets"])
        assert (clicks, engagements) == (sums["clicks"], sums["engagements"])
        assert spend == pytest.approx(sums["billed_charge_local_micro"] / 1e6, abs=1e-4)
    order = [row[6] for row in rows]
    assert order == sorted(order, reverse=True)
    # One listing of the campaigns, then 5 synchronous calls of up to 20 campaigns.
    assert connected.calls == {"campaigns": 1, "stats": 5}


async def test_a_job_still_processing_is_polled_until_done(connected: Connected) -> None:
    connected.emulator.job_polls_before_success = 1
    try:
        result = await connected.get_data([widget("tads:follows")], comparison=False)
    finally:
        connected.emulator.job_polls_before_success = 0
    assert result["tads:follows"]["values"] == raw(PERIODS.start, END)["follows"]
    assert connected.calls == {"stats.jobs.create": 1, "stats.jobs.get": 2, "download": 1}


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
        result = await connected.get_data([widget("tads:likes")], comparison=False)
    finally:
        tokens.discard(DEMO_ACCESS_TOKEN)
    assert result["tads:likes"]["error"]["code"] == code
    again = await connected.client.post(
        "/metrics/get-data",
        json={
            "customer_integration": connected.integration_uuid,
            "start": PERIODS.start.isoformat(),
            "end": END.isoformat(),
            "metrics": [widget("tads:likes")],
        },
        headers=connected.headers,
    )
    assert again.status_code == 409, again.text
    assert again.json()["status"] == code.removeprefix("integration_")


async def test_a_rate_limit_reset_beyond_the_budget_fails_the_widget_only(
    connected: Connected,
) -> None:
    switches = connected.sandbox.controls.switches
    switches.rate_limit_next, switches.retry_after_seconds = 1, 3600
    start = END - timedelta(days=6)
    try:
        result = await connected.get_data(
            [widget("tads:likes"), widget("tads:featured_campaigns")], False, start, END
        )
    finally:
        switches.rate_limit_next, switches.retry_after_seconds = 0, 1
    codes = sorted((v.get("error", {}).get("code") for v in result.values()), key=str)
    assert codes == [None, "upstream_rate_limited"]


async def test_a_short_rate_limit_is_waited_out(connected: Connected) -> None:
    switches = connected.sandbox.controls.switches
    switches.rate_limit_next, switches.retry_after_seconds = 1, 1
    start = END - timedelta(days=6)
    try:
        result = await connected.get_data([widget("tads:likes")], False, start, END)
    finally:
        switches.rate_limit_next = 0
    assert result["tads:likes"]["values"] == raw(start, END)["likes"]
    assert connected.calls == {"stats": 2}


async def test_over_capacity_waits_for_retry_after(connected: Connected) -> None:
    switches = connected.sandbox.controls.switches
    switches.server_error_ratio, switches.retry_after_seconds = 1.0, 1
    start = END - timedelta(days=6)
    try:
        result = await connected.get_data([widget("tads:replies")], False, start, END)
    finally:
        switches.server_error_ratio = 0.0
    assert result["tads:replies"]["error"]["code"] == "upstream_rate_limited"
    again = await connected.get_data([widget("tads:replies")], False, start, END)
    assert again["tads:replies"]["values"] == raw(start, END)["replies"]


async def test_a_campaign_entity_narrows_to_its_own_days(connected: Connected) -> None:
    start = END - timedelta(days=6)
    campaign = campaigns_of(ACCOUNT)[1]
    narrowed = widget("tads:clicks", entity_type="campaign", entity_id=campaign.id)
    result = await connected.get_data([narrowed], False, start, END)
    clicks = sum(campaign_day(ACCOUNT, campaign, d)["clicks"] for d in days(start, END))
    assert result["tads:clicks"]["values"] == clicks < raw(start, END)["clicks"]
