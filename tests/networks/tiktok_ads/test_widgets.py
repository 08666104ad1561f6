"""Every predefined TikTok Ads widget through POST /metrics/get-data on an integration
connected to the emulator; ratios and reach checked against the emulator's raw cells."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.networks.tiktok_ads.emulator.app import TikTokAdsEmulator
from metrics_connect.networks.tiktok_ads.emulator.data import Cell
from metrics_connect.networks.tiktok_ads.emulator.network import build_sandbox
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

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
END = date(2026, 11, 20)
PERIODS = Periods(END)


@dataclass
class Connected(ConnectedNetwork):
    @property
    def emulator(self) -> TikTokAdsEmulator:
        return self.sandbox.emulator  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
async def tiktok_ads(
    network: SandboxNetwork,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, tiktok_ads_api_base_url="http://tiktok-ads.test")
    with frozen_clock(network, NOW) as shared:
        async with connected_network(
            Connected, "tiktok_ads", network, shared, settings, PERIODS
        ) as connection:
            yield connection


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("tiktok_ads", reference_key, **overrides)


def cells(connected: Connected, start: date, end: date) -> list[tuple[Any, date, Cell]]:
    """The emulator's raw ad-days over the period, as known at NOW."""
    data = connected.emulator.data
    out = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        for ad in data.ads:
            cell = data.day_cell(ad, day, NOW)
            if cell:
                out.append((ad, day, cell))
    return out


def total(found: list[tuple[Any, date, Cell]], name: str) -> float:
    return sum(cell.get(name, 0) for _, _, cell in found)


async def test_every_predefined_widget_answers_over_90_days_with_comparison(
    tiktok_ads: Connected,
) -> None:
    widgets = numbered(reference_widgets("tiktok_ads"))
    assert len(widgets) == 353
    result: dict[str, Any] = {}
    for first in range(0, len(widgets), 200):  # the API takes 200 widgets a request
        result |= await tiktok_ads.get_data(widgets[first : first + 200])
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        if w["component"] == "number_v1":
            assert body["values"] is not None, w["reference_key"]
            assert body["comparison"]["values"] is not None, w["reference_key"]
        elif w["component"] != "container_v1":
            assert body["values"], w["reference_key"]
            assert "comparison" in body, w["reference_key"]


async def test_cpc_ctr_cpm_and_cost_per_conversion_are_ratios_of_summed_parts(
    tiktok_ads: Connected,
) -> None:
    keys = ["tiktok_ads:cpc", "tiktok_ads:ctr", "tiktok_ads:cpm", "tiktok_ads:cpa"]
    result = await tiktok_ads.get_data([widget(k) for k in keys])
    for start, end, part in (
        (PERIODS.start, PERIODS.end, "values"),
        (PERIODS.comparison_start, PERIODS.comparison_end, "comparison"),
    ):
        found = cells(tiktok_ads, start, end)
        spend, clicks = total(found, "spend"), total(found, "clicks")
        impressions, conversions = total(found, "impressions"), total(found, "conversion")

        def value(key: str, body: dict[str, Any] = result, part: str = part) -> Any:
            return body[key]["values"] if part == "values" else body[key]["comparison"]["values"]

        assert value("tiktok_ads:cpc") == pytest.approx(spend / clicks, abs=1e-3)
        assert value("tiktok_ads:ctr") == pytest.approx(clicks * 100 / impressions, abs=1e-3)
        assert value("tiktok_ads:cpm") == pytest.approx(spend * 1000 / impressions, abs=1e-3)
        assert value("tiktok_ads:cpa") == pytest.approx(spend / conversions, abs=1e-3)
    # Never the mean of the days' own ratios.
    days = {}
    for _, day, cell in cells(tiktok_ads, PERIODS.start, PERIODS.end):
        spend_clicks = days.setdefault(day, [0.0, 0.0])
        spend_clicks[0] += cell["spend"]
        spend_clicks[1] += cell["clicks"]
    daily_mean = sum(s / c for s, c in days.values() if c) / len(days)
    assert result["tiktok_ads:cpc"]["values"] != pytest.approx(daily_mean, rel=1e-4)


async def test_reach_is_the_networks_unique_count_of_the_exact_period(
    tiktok_ads: Connected,
) -> None:
    result = await tiktok_ads.get_data([widget("tiktok_ads:reach")])
    data = tiktok_ads.emulator.data
    found = cells(tiktok_ads, PERIODS.start, PERIODS.end)
    assert result["tiktok_ads:reach"]["values"] == data.reach(found)
    before = cells(tiktok_ads, PERIODS.comparison_start, PERIODS.comparison_end)
    assert result["tiktok_ads:reach"]["comparison"]["values"] == data.reach(before)
    # Less than the sum of each day's reach: the same people come back.
    assert data.reach(found) < total(found, "reach")
    # A sub-period is asked for itself, not cut out of the longer one.
    short = await tiktok_ads.get_data(
        [widget("tiktok_ads:reach")], comparison=False, start=END - timedelta(days=6), end=END
    )
    week = cells(tiktok_ads, END - timedelta(days=6), END)
    assert short["tiktok_ads:reach"]["values"] == data.reach(week)


async def test_top_campaigns_rows_are_each_campaigns_sums(tiktok_ads: Connected) -> None:
    result = await tiktok_ads.get_data([widget("tiktok_ads:top_campaigns")], comparison=False)
    body = result["tiktok_ads:top_campaigns"]
    found = cells(tiktok_ads, PERIODS.start, PERIODS.end)
    by_name: dict[str, list[float]] = {}
    for ad, _, cell in found:
        sums = by_name.setdefault(ad.campaign.campaign_name, [0.0, 0.0])
        sums[0] += cell["impressions"]
        sums[1] += cell["spend"]
    rows = {row[0]: row[1:] for row in body["values"] if row[0] != "Total"}
    assert set(rows) == set(by_name)
    for name, (impressions, spend, *_rest) in rows.items():
        assert impressions == by_name[name][0]
        assert spend == pytest.approx(by_name[name][1], abs=0.01)
    impressions_order = [r[1] for r in body["values"] if r[0] != "Total"]
    assert impressions_order == sorted(impressions_order, reverse=True)


async def test_impressions_by_gender_split_the_days_impressions(tiktok_ads: Connected) -> None:
    result = await tiktok_ads.get_data(
        [widget("tiktok_ads:impressions_by_gender")], comparison=False
    )
    body = result["tiktok_ads:impressions_by_gender"]
    found = cells(tiktok_ads, PERIODS.start, PERIODS.end)
    assert sum(body["values"][0]["data"]) == total(found, "impressions")
    assert set(body["labels"]) == {"Female", "Male", "Unknown"}


@pytest.mark.parametrize(
    ("switch", "code"),
    [("revoked_tokens", "integration_revoked"), ("expired_tokens", "integration_expired")],
)
async def test_a_business_error_in_a_200_body_becomes_the_integration_status(
    tiktok_ads: Connected, network: SandboxNetwork, switch: str, code: str
) -> None:
    tokens: set[str] = getattr(network.controls.switches, switch)
    token = str(network.demo_account.credentials["access_token"])
    tokens.add(token)
    try:
        result = await tiktok_ads.get_data([widget("tiktok_ads:spend")], comparison=False)
    finally:
        tokens.discard(token)
    assert result["tiktok_ads:spend"]["error"]["code"] == code


async def test_the_references_name_columns_answer_as_text(tiktok_ads: Connected) -> None:
    table = {
        "id": "names",
        "component": "datatable_v1",
        "metrics": ["campaign_id", "spend"],
        "dimensions": ["campaign_id"],
    }
    result = await tiktok_ads.get_data([table], comparison=False)
    rows = [r for r in result["names"]["values"] if r[0] != "Total"]
    assert rows and all(row[0] == row[1] for row in rows)  # the name, beside its label
