"""Every predefined LinkedIn Ads widget through POST /metrics/get-data on an integration
connected to the emulator, and the non-additive figures checked against the emulator's
raw data: CTR, CPC and CPM from summed parts, reach asked for the exact period."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from metrics_connect.networks.linkedin_ads.emulator.data import AdsData
from metrics_connect.networks.linkedin_ads.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.connected import ConnectedNetwork, SharedClock, connected_network, frozen_clock
from tests.networks.widgets import Periods, reference_widget, reference_widgets, widget_errors

SLUG = "linkedin_ads"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PERIODS = Periods(date(2026, 11, 18))


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget(SLUG, reference_key, **overrides)


@dataclass
class Connected(ConnectedNetwork):
    data: AdsData


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
def frozen(network: SandboxNetwork) -> Iterator[SharedClock]:
    network.controls.calls.reset()
    with frozen_clock(network, NOW) as shared:
        yield shared


@pytest.fixture
async def connected(
    network: SandboxNetwork,
    frozen: SharedClock,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    settings = settings_factory(
        sqlite_url,
        linkedin_ads_api_base_url="http://linkedin.test",
        request_time_budget_seconds=240.0,
    )
    async with connected_network(Connected, SLUG, network, frozen, settings, PERIODS) as connection:
        yield connection


def every_creative(data: AdsData) -> list[int]:
    return list(data.creatives)


async def test_every_predefined_widget_answers_with_a_comparison(connected: Connected) -> None:
    widgets = [{**w, "id": f"w{i}"} for i, w in enumerate(reference_widgets(SLUG))]
    assert len(widgets) == 102
    result = await connected.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert "comparison" in body, w["reference_key"]
        if w["component"] == "number_v1":
            assert isinstance(body["values"], int | float), w["reference_key"]
        elif w["component"] in ("datatable_v1", "container_v1") and w["reference_key"] != "summary":
            assert len(body["values"]) >= 1, w["reference_key"]
        elif w["component"] == "chart_v1":
            assert len(body["labels"]) == 90, w["reference_key"]


async def test_ctr_cpc_cpm_are_ratios_of_the_raw_sums(connected: Connected) -> None:
    keys = ["li_ads:averageCtr", "li_ads:averageCpc", "li_ads:averageCpm", "li_ads:cost"]
    result = await connected.get_data([widget(k) for k in keys])
    data = connected.data
    raw = data.totals(every_creative(data), PERIODS.start, PERIODS.end)
    cost, clicks, impressions = raw["costInLocalCurrency"], raw["clicks"], raw["impressions"]
    assert result["li_ads:cost"]["values"] == pytest.approx(cost, abs=0.05)
    assert result["li_ads:averageCtr"]["values"] == pytest.approx(
        100 * clicks / impressions, abs=1e-4
    )
    assert result["li_ads:averageCpc"]["values"] == pytest.approx(cost / clicks, abs=1e-3)
    assert result["li_ads:averageCpm"]["values"] == pytest.approx(
        1000 * cost / impressions, abs=1e-3
    )
    # A mean of daily CPCs is another number: the test tells them apart.
    days = [data.totals(every_creative(data), d, d) for d in _days(PERIODS.start, PERIODS.end)]
    mean_cpc = sum(d["costInLocalCurrency"] / d["clicks"] for d in days) / len(days)
    assert abs(mean_cpc - cost / clicks) > 2e-3  # beyond the tolerance above


def _days(first: date, last: date) -> list[date]:
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


async def test_reach_is_asked_for_each_exact_period(connected: Connected) -> None:
    result = await connected.get_data([widget("li_ads:approximateMemberReach")])
    data = connected.data
    creatives = every_creative(data)
    reach = data.reach(creatives, PERIODS.start, PERIODS.end)
    before = data.reach(creatives, PERIODS.comparison_start, PERIODS.comparison_end)
    body = result["li_ads:approximateMemberReach"]
    assert body["values"] == reach and body["comparison"]["values"] == before
    daily_sum = sum(data.reach(creatives, d, d) for d in _days(PERIODS.start, PERIODS.end))
    assert daily_sum > reach  # uniques never add up over days
    assert connected.sandbox.controls.calls.by_endpoint["adAnalytics"] == 2


async def test_campaign_table_joins_names_and_objective_results(connected: Connected) -> None:
    result = await connected.get_data([widget("li_ads:featuredCampaigns")], comparison=False)
    table = result["li_ads:featuredCampaigns"]
    data = connected.data
    rows = {row[0]: row for row in table["values"] if row[0] != "Total"}
    for campaign in data.campaigns.values():
        ids = [c for c, cr in data.creatives.items() if cr.campaign.id == campaign.id]
        raw = data.totals(ids, PERIODS.start, PERIODS.end)
        if not raw.get("impressions") and not raw.get("sends"):
            assert campaign.name not in rows
            continue
        assert rows[campaign.name][1:3] == [raw["clicks"], raw["impressions"]]


async def test_message_ads_table_has_only_message_campaigns(connected: Connected) -> None:
    result = await connected.get_data(
        [widget("li_ads:featuredSponsoredMessaging")], comparison=False
    )
    names = [row[0] for row in result["li_ads:featuredSponsoredMessaging"]["values"]]
    assert [n for n in names if n != "Total"] == ["Conversation ad - office coffee"]


async def test_demographics_are_labelled_and_asked_per_period(connected: Connected) -> None:
    keys = ["li_ads:performanceSeniorities", "li_ads:performanceRegion"]
    result = await connected.get_data([widget(k) for k in keys], comparison=False)
    labels = {row[0] for row in result["li_ads:performanceSeniorities"]["values"]}
    assert {"Entry", "Senior", "Manager"} <= labels
    # Regions are named by LinkedIn's geo lookup: one more call after adAnalytics.
    regions = {row[0] for row in result["li_ads:performanceRegion"]["values"]}
    assert {"São Paulo Area, Brazil", "Lisbon Area, Portugal"} <= regions
    assert connected.sandbox.controls.calls.by_endpoint["geo"] == 1


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
        result = await connected.get_data([widget("li_ads:clicks")], comparison=False)
    finally:
        tokens.discard(DEMO_ACCESS_TOKEN)
    assert result["li_ads:clicks"]["error"]["code"] == code


async def test_a_rate_limit_beyond_the_budget_fails_the_widget_only(connected: Connected) -> None:
    switches = connected.sandbox.controls.switches
    switches.rate_limit_next, switches.retry_after_seconds = 1, 3600
    try:
        result = await connected.get_data(
            [widget("li_ads:clicks"), widget("li_ads:videoViews")], comparison=False
        )
    finally:
        switches.rate_limit_next, switches.retry_after_seconds = 0, 1
    codes = sorted((v.get("error", {}).get("code") for v in result.values()), key=str)
    assert codes == [None, "upstream_rate_limited"]


async def test_explain_counts_the_calls_fetch_makes(connected: Connected) -> None:
    widgets = [widget("li_ads:clicks"), widget("li_ads:featuredCampaignGroups")]
    body = {
        "customer_integration": connected.integration_uuid,
        "start": PERIODS.start.isoformat(),
        "end": PERIODS.end.isoformat(),
        "metrics": widgets,
    }
    response = await connected.client.post(
        "/metrics/get-data?explain=true", json=body, headers=connected.headers
    )
    assert response.status_code == 200, response.text
    explain = response.json()["explain"]
    await connected.get_data(widgets, comparison=False)
    assert explain["upstream_calls"] == connected.sandbox.controls.calls.total == 3
