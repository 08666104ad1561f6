"""Issue 13, point 4, on the connector side: what Meta omits or refuses in December 2026
is never passed off as exact (reach with breakdowns over 13 months old, opt-in
breakdowns), creative URLs come from the story spec, account-specific fields are not
asked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from metrics_connect import clock
from metrics_connect.connectors.base import FetchRequest, UpstreamError
from metrics_connect.networks.facebook_ads.connector.hooks import FacebookAdsConnector
from metrics_connect.networks.facebook_ads.emulator.app import FacebookAdsEmulator
from metrics_connect.networks.facebook_ads.emulator.entities import ADS
from metrics_connect.sandbox.registry import SandboxNetwork


async def test_reach_omitted_for_13_month_old_breakdowns_is_noted_per_day(
    connector: FacebookAdsConnector,
) -> None:
    # Today 2026-01-15: October 2024 is over 13 months back.
    old = FetchRequest("insights_daily", date(2024, 10, 1), date(2024, 10, 5), ("age",))
    result = await connector.fetch(old)
    assert result.rows and not any("reach" in r.values for r in result.rows)
    assert result.day_notes == {date(2024, 10, d): {"reach_omitted"} for d in range(1, 6)}
    recent = FetchRequest("insights_daily", date(2025, 12, 1), date(2025, 12, 5), ("age",))
    fresh = await connector.fetch(recent)
    assert fresh.day_notes == {} and all("reach" in r.values for r in fresh.rows if r.values)
    period = await connector.fetch(
        FetchRequest("insights_period", date(2024, 10, 1), date(2024, 10, 31), ("gender",))
    )
    assert period.notes == {"reach_omitted"}


async def test_opt_in_breakdowns_without_the_opt_in_are_a_precise_error(
    connector: FacebookAdsConnector, network: SandboxNetwork, emulator: FacebookAdsEmulator
) -> None:
    later = datetime(2026, 12, 2, 15, tzinfo=UTC)
    network.controls.clock.set(later)
    clock.set_clock(lambda: later)
    request = FetchRequest(
        "insights_daily", date(2026, 11, 1), date(2026, 11, 7), ("impression_device",)
    )
    with pytest.raises(UpstreamError, match="opted in"):
        await connector.fetch(request)
    emulator.switches.breakdowns_opted_in = True
    assert (await connector.fetch(request)).rows


async def test_destination_urls_come_from_the_story_spec(connector: FacebookAdsConnector) -> None:
    end = date(2026, 1, 10)
    request = FetchRequest("insights_daily", end - timedelta(days=6), end, ("ad_name",))
    result = await connector.fetch(request)
    links = {ad.name: ad.link for ad in ADS}
    seen = {r.keys["ad_name"]: r.keys.get("destination_urls") for r in result.rows}
    assert seen and all(seen[name] == links[name] for name in seen)


def test_account_specific_fields_are_not_asked(connector: FacebookAdsConnector) -> None:
    request = FetchRequest("insights_daily", date(2026, 1, 1), date(2026, 1, 10))
    fields = connector.plan_calls(request)[0].params["fields"].split(",")
    assert "adjusted_offline_purchase" not in fields and "spend" in fields


async def test_a_field_meta_calls_invalid_is_dropped_and_the_query_asked_again(
    connector: FacebookAdsConnector, network: SandboxNetwork
) -> None:
    connector._refused_fields.clear()  # as if adjusted_offline_purchase were asked
    request = FetchRequest("insights_daily", date(2026, 1, 1), date(2026, 1, 3))
    result = await connector.fetch(request)
    assert result.rows and "adjusted_offline_purchase" in connector._refused_fields
    assert network.controls.calls.by_endpoint["GET insights"] == 2  # refused, then asked again
