"""Every predefined Pinterest widget through POST /metrics/get-data on an integration
connected to the emulator, after the demo's replay of the sync has archived followers
and the analytics older than the API's 90 days; figures checked against the emulator's
raw pin-days."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.networks.pinterest.emulator import data
from metrics_connect.networks.pinterest.emulator.network import build_sandbox
from metrics_connect.networks.pinterest.sync.demo import prepare_demo
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
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

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
END = date(2026, 12, 1)  # the last settled day (the API's last two are PROCESSING)
PERIODS = Periods(END)
SLUG = "pinterest"


def widget(key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget(SLUG, f"{SLUG}:{key}", **overrides)


def account_total(metric: str, start: date, end: date, split: str = "NO_SPLIT") -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range((end - start).days + 1):
        for key, values in data.account_day(start + timedelta(days=i), split).items():
            out[key] = out.get(key, 0) + values[metric]
    return out


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
        pinterest_api_base_url="http://pinterest.test",
        request_time_budget_seconds=240.0,
    )
    network.controls.calls.reset()
    with frozen_clock(network, NOW) as shared:
        async with connected_network(
            Connected, SLUG, network, shared, settings, PERIODS
        ) as connection:
            yield connection


async def test_every_predefined_widget_answers_with_a_comparison_after_the_replay(
    connected: Connected,
) -> None:
    await prepare_demo(
        connected.runtime, connected.integration_uuid, connected.sandbox, days=PERIODS.days * 2 + 4
    )
    assert connected.sandbox.controls.clock.now() == NOW  # the sandbox clock is back
    widgets = numbered(reference_widgets(SLUG))
    assert len(widgets) == 14
    result = await connected.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert "comparison" in body, w["reference_key"]
        if w["component"] == "number_v1":
            assert isinstance(body["values"], int | float), w["reference_key"]
            assert isinstance(body["comparison"]["values"], int | float), w["reference_key"]
        elif w["component"] == "datatable_v1":
            assert body["values"], w["reference_key"]
        else:
            assert body["labels"], w["reference_key"]
    # The comparison period is older than the API's 90 days: it came from the archive.
    impressions = result["w0"]
    assert impressions["values"] == account_total("IMPRESSION", PERIODS.start, END)["all"]
    before = account_total("IMPRESSION", PERIODS.comparison_start, PERIODS.comparison_end)
    assert impressions["comparison"]["values"] == before["all"]
    # Pins and boards counts are the last archived snapshot of each period.
    pins = {w["reference_key"]: result[w["id"]] for w in widgets}["pinterest:total_pins"]
    end_noon = datetime.combine(END, datetime.min.time(), UTC) + timedelta(hours=12)
    assert pins["values"] == len(data.pins_until(end_noon))  # archived at noon
    comparison_end = datetime.combine(PERIODS.comparison_end, datetime.min.time(), UTC)
    assert pins["comparison"]["values"] == len(
        data.pins_until(comparison_end + timedelta(hours=12))
    )


async def test_rates_are_ratios_of_the_period_sums(connected: Connected) -> None:
    start = END - timedelta(days=29)
    keys = ("engagement", "engagement_rate", "clicks_rate", "impressions_by_pin_format")
    result = await connected.get_data([widget(k) for k in keys], comparison=False, start=start)
    impressions = account_total("IMPRESSION", start, END)["all"]
    engagement = account_total("ENGAGEMENT", start, END)["all"]
    clicks = account_total("PIN_CLICK", start, END)["all"]
    assert result[f"{SLUG}:engagement"]["values"] == engagement
    assert result[f"{SLUG}:engagement_rate"]["values"] == pytest.approx(
        100 * engagement / impressions, abs=1e-4
    )
    assert result[f"{SLUG}:clicks_rate"]["values"] == pytest.approx(
        100 * clicks / impressions, abs=1e-4
    )
    pie = result[f"{SLUG}:impressions_by_pin_format"]
    by_format = account_total("IMPRESSION", start, END, "PIN_FORMAT")
    shown = dict(zip(pie["labels"], pie["values"][0]["data"], strict=True))
    assert shown == {
        {"ORGANIC_IMAGE": "Image", "ORGANIC_VIDEO": "Video", "ORGANIC_PRODUCT": "Product"}[k]: v
        for k, v in by_format.items()
    }


async def test_the_pins_table_lists_the_periods_pins_with_their_figures(
    connected: Connected,
) -> None:
    start = END - timedelta(days=29)
    result = await connected.get_data([widget("pins")], comparison=False, start=start)
    rows = [r for r in result[f"{SLUG}:pins"]["values"] if r[0] != "Total"]
    published = [p for p in data.pins_until(NOW) if start <= p.day <= END]
    assert len(rows) == len(published)
    first = NOW.date() - timedelta(days=90)
    expected = {
        p.title + p.id: sum(
            data.pin_totals(p.number, max(p.day, first) + timedelta(days=i))["IMPRESSION"]
            for i in range((NOW.date() - max(p.day, first)).days + 1)
        )
        for p in published
    }
    assert sorted(r[2] for r in rows) == sorted(expected.values())


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
        result = await connected.get_data([widget("impressions")], comparison=False)
    finally:
        tokens.discard(DEMO_ACCESS_TOKEN)
    assert result[f"{SLUG}:impressions"]["error"]["code"] == code
