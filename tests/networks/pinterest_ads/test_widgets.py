"""Every predefined Pinterest Ads widget through POST /metrics/get-data on an integration
connected to the emulator, and the figures checked against the emulator's raw atoms:
money from summed micros, CTR/CPC/CPM as ratios of the period's sums, a span longer than
one call (synchronous days and reports) equal to the raw sum, reach per exact period."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect import clock
from metrics_connect.networks.pinterest_ads.emulator import data
from metrics_connect.networks.pinterest_ads.emulator.network import DEMO_ACCOUNT, build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from metrics_connect.sync.service import load_integration, run_sync
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import (
    Periods,
    numbered,
    reference_widget,
    reference_widgets,
    widget_errors,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
END = date(2026, 12, 2)
PERIODS = Periods(END)
SLUG = "pinterest_ads"


def widget(key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget(SLUG, f"{SLUG}:{key}", **overrides)


def raw(start: date, end: date) -> list[tuple[data.Campaign, data.Ad, dict[str, int]]]:
    """Every ad's atoms of every day of start..end (the emulator's own numbers)."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    out = []
    for campaign, _, ad in data.ads_of(data.delivering(DEMO_ACCOUNT.id)):
        out += [(campaign, ad, atoms) for d in days if (atoms := data.ad_day(campaign, ad, d))]
    return out


def total(column: str, start: date, end: date) -> int:
    return sum(atoms.get(column, 0) for _, _, atoms in raw(start, end))


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
        pinterest_ads_api_base_url="http://pinterest.test",
        request_time_budget_seconds=240.0,
    )
    network.controls.calls.reset()
    with frozen_clock(network, NOW) as shared:
        async with connected_network(
            Connected, SLUG, network, shared, settings, PERIODS
        ) as connection:
            yield connection


async def test_every_predefined_widget_answers_with_a_comparison(connected: Connected) -> None:
    widgets = numbered(reference_widgets(SLUG))
    assert len(widgets) == 142
    result = await connected.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert "comparison" in body, w["reference_key"]
        if w["component"] == "number_v1":
            assert isinstance(body["values"], int | float), w["reference_key"]
            assert isinstance(body["comparison"]["values"], int | float), w["reference_key"]
        elif w["component"] in ("datatable_v1", "container_v1"):
            assert body["values"], w["reference_key"]
        else:
            assert body["labels"], w["reference_key"]


async def test_a_span_longer_than_one_call_equals_the_raw_sums(connected: Connected) -> None:
    """200 days: the last 90 synchronous, the older ones from reports; money from micros,
    CTR, CPC and CPM as ratios of the whole span's sums."""
    start = END - timedelta(days=199)
    keys = ("spend", "clicks", "paid_impressions", "total_ctr", "ecpc_in_dollar", "cpm")
    result = await connected.get_data([widget(k) for k in keys], comparison=False, start=start)
    spend = total("SPEND_IN_MICRO_DOLLAR", start, END) / 1_000_000
    clicks = total("CLICKTHROUGH_1", start, END)
    impressions = total("IMPRESSION_1", start, END)
    values = {k: result[f"{SLUG}:{k}"]["values"] for k in keys}
    assert values["spend"] == pytest.approx(spend, abs=1e-4)
    assert values["clicks"] == clicks and values["paid_impressions"] == impressions
    assert values["total_ctr"] == pytest.approx(100 * clicks / impressions, abs=1e-4)
    assert values["ecpc_in_dollar"] == pytest.approx(spend / clicks, abs=1e-4)
    assert values["cpm"] == pytest.approx(1000 * spend / impressions, abs=1e-4)
    calls = connected.sandbox.controls.calls.by_endpoint
    assert calls["analytics.ADVERTISER"] == 1 and calls["reports.create"] == 1


async def test_reach_is_the_period_figure_never_a_sum_of_days(connected: Connected) -> None:
    start = END - timedelta(days=29)
    result = await connected.get_data([widget("total_impression_user")], start=start)
    impressions = total("IMPRESSION_1", start, END) + total("IMPRESSION_2", start, END)
    expected = data.reach(DEMO_ACCOUNT.id, DEMO_ACCOUNT.id, start, END, impressions)
    assert result[f"{SLUG}:total_impression_user"]["values"] == expected
    before_end = start - timedelta(days=1)
    before_start = before_end - timedelta(days=89)
    assert before_start < NOW.date() - timedelta(days=90)  # a report, not the sync endpoint


async def test_campaign_table_rows_are_each_campaigns_raw_sums(connected: Connected) -> None:
    start = END - timedelta(days=59)
    result = await connected.get_data([widget("top_campaigns")], comparison=False, start=start)
    rows = {
        row[0]: row[1:] for row in result[f"{SLUG}:top_campaigns"]["values"] if row[0] != "Total"
    }
    by_campaign: dict[str, list[int]] = {}
    for campaign, _, atoms in raw(start, END):
        sums = by_campaign.setdefault(campaign.name, [0, 0, 0, 0])
        for i, column in enumerate(("REPIN_1", "ENGAGEMENT_1", "CLICKTHROUGH_1", "IMPRESSION_1")):
            sums[i] += atoms[column]
    assert set(rows) == set(by_campaign)
    for name, (saves, engagement, ctr) in rows.items():
        s, e, c, i = by_campaign[name]
        assert (saves, engagement) == (s, e)
        assert ctr == pytest.approx(100 * c / i, abs=1e-4)


async def test_explain_lists_the_calls_fetch_makes(connected: Connected) -> None:
    widgets = [widget("spend"), widget("top_ads"), widget("total_impression_user")]
    body = {
        "customer_integration": connected.integration_uuid,
        "start": PERIODS.start.isoformat(),
        "end": END.isoformat(),
        "comparison_start": PERIODS.comparison_start.isoformat(),
        "comparison_end": PERIODS.comparison_end.isoformat(),
        "metrics": widgets,
    }
    response = await connected.client.post(
        "/metrics/get-data?explain=true", json=body, headers=connected.headers
    )
    assert response.status_code == 200, response.text
    explain = response.json()["explain"]
    assert connected.sandbox.controls.calls.total == 0
    await connected.get_data(widgets)
    assert explain["upstream_calls"] == connected.sandbox.controls.calls.total


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
        result = await connected.get_data([widget("spend")], comparison=False)
    finally:
        tokens.discard(DEMO_ACCESS_TOKEN)
    assert result[f"{SLUG}:spend"]["error"]["code"] == code


async def test_a_rate_limit_beyond_the_budget_fails_the_widget_only(connected: Connected) -> None:
    switches = connected.sandbox.controls.switches
    switches.rate_limit_next, switches.retry_after_seconds = 1, 3600
    try:
        result = await connected.get_data(
            [widget("spend"), widget("top_keywords")], comparison=False
        )
    finally:
        switches.rate_limit_next, switches.retry_after_seconds = 0, 1
    codes = sorted((v.get("error", {}).get("code") for v in result.values()), key=str)
    assert codes == [None, "upstream_rate_limited"]


async def test_the_sync_keeps_the_days_the_api_forgets_after_914_days(
    connected: Connected,
) -> None:
    integration = await load_integration(connected.runtime, connected.integration_uuid)
    assert integration is not None
    outcome = await run_sync(connected.runtime, integration, NOW)
    assert outcome.ok and outcome.stored > 0
    end = NOW.date() - timedelta(days=3)  # the last settled day at NOW
    start = end - timedelta(days=29)
    later = NOW + timedelta(days=1000)
    connected.sandbox.controls.clock.set(later)
    clock.set_clock(lambda: later)
    connected.sandbox.controls.calls.reset()
    result = await connected.get_data(
        [widget("spend"), widget("total_ctr"), widget("top_campaigns")],
        comparison=False,
        start=start,
        end=end,
    )
    spend = total("SPEND_IN_MICRO_DOLLAR", start, end) / 1_000_000
    assert result[f"{SLUG}:spend"]["values"] == pytest.approx(spend, abs=1e-4)
    ctr = 100 * total("CLICKTHROUGH_1", start, end) / total("IMPRESSION_1", start, end)
    assert result[f"{SLUG}:total_ctr"]["values"] == pytest.approx(ctr, abs=1e-4)
    names = {row[0] for row in result[f"{SLUG}:top_campaigns"]["values"]} - {"Total"}
    assert names == {c.name for c, _, _ in raw(start, end)}
    # Pinterest no longer serves those days: every figure came from the archive.
    assert connected.sandbox.controls.calls.total == 0
