"""Every predefined LinkedIn Pages widget through POST /metrics/get-data on an
integration connected to the emulator, the archive of "now" figures by the sync, and
the figures checked against the emulator's raw data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from metrics_connect import clock
from metrics_connect.connectors.context import connector_for
from metrics_connect.networks.linkedin.emulator.data import ACTIONS, PageData
from metrics_connect.networks.linkedin.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from metrics_connect.sync.service import load_integration, run_sync
from tests.networks.connected import ConnectedNetwork, SharedClock, connected_network, frozen_clock
from tests.networks.widgets import Periods, reference_widget, reference_widgets, widget_errors

SLUG = "linkedin"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PERIODS = Periods(NOW.date())


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget(SLUG, reference_key, **overrides)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass
class Connected(ConnectedNetwork):
    data: PageData

    async def sync_at(self, at: datetime) -> None:
        """The scheduler's run at `at`, the sandbox's clock there too."""
        integration = await load_integration(self.runtime, self.integration_uuid)
        assert integration is not None
        self.sandbox.controls.clock.set(at)
        connector = connector_for(self.runtime, integration, now=lambda: at)
        try:
            assert (await run_sync(self.runtime, integration, at, connector=connector)).ok
        finally:
            self.sandbox.controls.clock.set(NOW)


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
        sqlite_url, linkedin_api_base_url="http://linkedin.test", request_time_budget_seconds=240.0
    )
    async with connected_network(Connected, SLUG, network, frozen, settings, PERIODS) as connection:
        yield connection


async def test_every_predefined_widget_answers_with_a_comparison(connected: Connected) -> None:
    # The follower count and followers by facet are "now" only: archived at each period's end.
    await connected.sync_at(datetime.combine(PERIODS.comparison_end, time(12), UTC))
    await connected.sync_at(NOW)
    widgets = [{**w, "id": f"w{i}"} for i, w in enumerate(reference_widgets(SLUG))]
    assert len(widgets) == 18
    result = await connected.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert "comparison" in body, w["reference_key"]
        if w["component"] == "number_v1":
            assert isinstance(body["values"], int | float), w["reference_key"]
        elif w["component"] == "datatable_v1":
            assert len(body["values"]) > 2, w["reference_key"]
        else:
            assert len(body["labels"]) == 90, w["reference_key"]
    total = result[next(w["id"] for w in widgets if w["reference_key"] == "li:followers_total")]
    assert total["values"] == connected.data.followers_total(NOW.date())
    assert total["comparison"]["values"] == connected.data.followers_total(PERIODS.comparison_end)


async def test_period_sums_and_engagement_from_the_raw_days(connected: Connected) -> None:
    keys = ["li:impressions", "li:engagement", "li:reach", "li:followers", "li:total_clicks"]
    result = await connected.get_data([widget(k) for k in keys], comparison=False)
    data = connected.data
    stats = [data.share_day(d) for d in days(PERIODS.start, PERIODS.end)]
    impressions = sum(s["impressionCount"] for s in stats)
    actions = sum(s[a] for s in stats for a in ACTIONS)
    assert result["li:impressions"]["values"] == impressions
    assert result["li:total_clicks"]["values"] == sum(s["clickCount"] for s in stats)
    assert result["li:engagement"]["values"] == pytest.approx(100 * actions / impressions, abs=1e-4)
    assert result["li:reach"]["values"] == sum(s["uniqueImpressionsCount"] for s in stats)
    gains = [data.follower_gains(d) for d in days(PERIODS.start, PERIODS.end)]
    assert result["li:followers"]["values"] == sum(o + p for o, p in gains)


async def test_posts_table_has_each_posts_lifetime_figures(connected: Connected) -> None:
    result = await connected.get_data([widget("li:posts")], comparison=False)
    table = result["li:posts"]
    data = connected.data
    in_period = [p for p in data.posts_until(NOW) if PERIODS.start <= p.day <= PERIODS.end]
    rows = [r for r in table["values"] if r[0] != "Total"]
    assert len(rows) == len(in_period)
    by_text: dict[str, list[int]] = {}
    for post in in_period:
        by_text.setdefault(post.commentary, []).append(
            data.post_lifetime(post, NOW)["impressionCount"]
        )
    assert sorted(r[1] for r in rows) == sorted(v for vs in by_text.values() for v in vs)
    impressions = [r[1] for r in rows]
    assert impressions == sorted(impressions, reverse=True)


async def test_followers_by_facet_are_labelled(connected: Connected) -> None:
    await connected.sync_at(NOW)
    keys = ["li:followers_by_function", "li:followers_by_industry", "li:followers_by_region"]
    result = await connected.get_data([widget(k) for k in keys], comparison=False)
    labels = {row[0] for row in result["li:followers_by_function"]["values"]}
    assert {"Sales", "Marketing", "Engineering"} <= labels
    industries = {row[0]: row[1] for row in result["li:followers_by_industry"]["values"]}
    expected = connected.data.demographics("followerCountsByIndustry", NOW)
    organic, paid = expected["urn:li:industry:34"]
    assert industries["Food and Beverage Services"] == organic + paid
    regions = {row[0] for row in result["li:followers_by_region"]["values"]}
    assert "São Paulo Area, Brazil" in regions


async def test_days_older_than_12_months_come_from_the_archive(connected: Connected) -> None:
    """LinkedIn serves time-bound statistics for the trailing 12 months: a day the sync
    archived still answers a year later, without calling the API."""
    await connected.sync_at(NOW)
    archived = NOW.date() - timedelta(days=4)  # the sync keeps the last settled days
    later = NOW + timedelta(days=400)
    connected.sandbox.controls.clock.set(later)
    clock.set_clock(lambda: later)
    connected.sandbox.controls.calls.reset()
    body = {
        "customer_integration": connected.integration_uuid,
        "start": archived.isoformat(),
        "end": archived.isoformat(),
        "metrics": [widget("li:impressions")],
    }
    response = await connected.client.post(
        "/metrics/get-data", json=body, headers=connected.headers
    )
    assert response.status_code == 200, response.text
    value = response.json()["li:impressions"]["values"]
    assert value == connected.data.share_day(archived)["impressionCount"]
    assert connected.sandbox.controls.calls.total == 0


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
        result = await connected.get_data([widget("li:impressions")], comparison=False)
    finally:
        tokens.discard(DEMO_ACCESS_TOKEN)
    assert result["li:impressions"]["error"]["code"] == code
