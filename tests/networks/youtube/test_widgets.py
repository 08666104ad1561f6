"""Every predefined YouTube widget through POST /metrics/get-data on an integration
connected to the emulator, and averages checked against the emulator's raw cells."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.networks.youtube.emulator.app import YoutubeEmulator
from metrics_connect.networks.youtube.emulator.network import build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import Periods, numbered, reference_widget, widget_errors
from tests.networks.widgets import reference_widgets as shared_widgets

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles
END = date(2026, 11, 20)
PERIODS = Periods(END)
START, COMPARISON_START, COMPARISON_END = (
    PERIODS.start,
    PERIODS.comparison_start,
    PERIODS.comparison_end,
)
# "Now" counts (Data API statistics) exist for a past period only once archived.
SNAPSHOTS = {"youtube:view_count", "youtube:subscriber_count", "youtube:video_count"}


def reference_widgets() -> list[dict[str, Any]]:
    return shared_widgets("youtube")


@dataclass
class Connected(ConnectedNetwork):
    @property
    def emulator(self) -> YoutubeEmulator:
        return self.sandbox.emulator  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
async def youtube(
    network: SandboxNetwork,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, youtube_api_base_url="http://youtube.test")
    with frozen_clock(network, NOW) as shared:
        async with connected_network(
            Connected, "youtube", network, shared, settings, PERIODS
        ) as connection:
            yield connection


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("youtube", reference_key, **overrides)


async def test_every_predefined_widget_answers_without_error(youtube: Connected) -> None:
    widgets = numbered(reference_widgets())
    assert len(widgets) == 29
    result = await youtube.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        if w["component"] == "number_v1":
            assert body["values"] is not None, w["reference_key"]
            if w["reference_key"] not in SNAPSHOTS:
                assert body["comparison"]["values"] is not None, w["reference_key"]
        else:
            assert body["values"], w["reference_key"]
            assert "comparison" in body, w["reference_key"]


def summed(connected: Connected, start: date, end: date) -> tuple[int, int]:
    """The emulator's raw views and minutes watched over the days, as arrived at NOW."""
    data = connected.emulator.data
    views = minutes = 0
    for i in range((end - start).days + 1):
        for _, cell in data.day_cells(start + timedelta(days=i), NOW):
            views += cell.views
            minutes += cell.estimatedMinutesWatched
    return views, minutes


async def test_average_view_duration_is_minutes_over_views_of_the_period(
    youtube: Connected,
) -> None:
    result = await youtube.get_data([widget("youtube:average_view_duration")])
    body = result["youtube:average_view_duration"]
    views, minutes = summed(youtube, START, END)
    assert body["values"] == pytest.approx(minutes * 60 / views)
    before_views, before_minutes = summed(youtube, COMPARISON_START, COMPARISON_END)
    assert body["comparison"]["values"] == pytest.approx(before_minutes * 60 / before_views)
    # Never the mean of daily averages (which the uneven days make differ).
    daily = []
    for i in range(90):
        day_views, day_minutes = summed(
            youtube, START + timedelta(days=i), START + timedelta(days=i)
        )
        if day_views:
            daily.append(day_minutes * 60 / day_views)
    assert body["values"] != pytest.approx(sum(daily) / len(daily), rel=1e-4)


async def test_country_average_view_duration_from_the_countrys_parts(youtube: Connected) -> None:
    result = await youtube.get_data([widget("youtube:most_accessed_countries")], comparison=False)
    body = result["youtube:most_accessed_countries"]
    data = youtube.emulator.data
    views: dict[str, int] = {}
    minutes: dict[str, int] = {}
    for i in range(90):
        day = START + timedelta(days=i)
        for _, cell in data.day_cells(day, NOW):
            for country, part in data.country_split(day, cell).items():
                views[country] = views.get(country, 0) + part.views
                minutes[country] = minutes.get(country, 0) + part.estimatedMinutesWatched
    assert body["headers"] == ["Country", "Views", "Average view duration", "Total time watched"]
    rows = {row[0]: row[1:] for row in body["values"]}
    for country, (row_views, duration, row_minutes) in rows.items():
        if country == "Total":
            continue
        assert (row_views, row_minutes) == (views[country], minutes[country])
        assert duration == pytest.approx(minutes[country] * 60 / views[country], abs=1e-3)
    assert list(rows)[:2] == ["BR", "US"]  # sorted by views, descending
    total_views, total_minutes = sum(views.values()), sum(minutes.values())
    assert rows["Total"][0] == total_views
    assert rows["Total"][1] == pytest.approx(total_minutes * 60 / total_views, abs=1e-3)


async def test_subscribers_variation_and_shorts_from_raw_cells(youtube: Connected) -> None:
    result = await youtube.get_data(
        [widget("youtube:subscribers_variation"), widget("youtube:views_shorts")],
        comparison=False,
    )
    data = youtube.emulator.data
    gained = lost = shorts = 0
    for i in range(90):
        for upload, cell in data.day_cells(START + timedelta(days=i), NOW):
            gained += cell.subscribersGained
            lost += cell.subscribersLost
            shorts += cell.views if upload.content_type == "SHORTS" else 0
    assert result["youtube:subscribers_variation"]["values"] == gained - lost
    assert result["youtube:views_shorts"]["values"] == shorts > 0


async def test_subscriber_count_is_the_channels_statistics(youtube: Connected) -> None:
    result = await youtube.get_data([widget("youtube:subscriber_count")], comparison=False)
    stats = youtube.emulator.data.channel_statistics(NOW)
    assert result["youtube:subscriber_count"]["values"] == stats["subscriberCount"]


@pytest.mark.parametrize(
    ("switch", "code"),
    [("revoked_tokens", "integration_revoked"), ("expired_tokens", "integration_expired")],
)
async def test_revoked_and_expired_tokens_answer_integration_errors(
    youtube: Connected, network: SandboxNetwork, switch: str, code: str
) -> None:
    tokens: set[str] = getattr(network.controls.switches, switch)
    token = str(network.demo_account.credentials["access_token"])
    tokens.add(token)
    try:
        result = await youtube.get_data([widget("youtube:views")], comparison=False)
    finally:
        tokens.discard(token)
    assert result["youtube:views"]["error"]["code"] == code


async def test_an_unsupported_combination_is_a_widget_error(youtube: Connected) -> None:
    # Viewer percentages exist by age and gender only: by day is no report of the API.
    bad = {
        "id": "bad",
        "component": "chart_v1",
        "metrics": ["viewerPercentage"],
        "dimensions": ["day"],
    }
    result = await youtube.get_data([bad, widget("youtube:likes")], comparison=False)
    assert result["bad"]["error"]["code"] == "unsupported_combination"
    assert result["youtube:likes"]["values"] > 0
