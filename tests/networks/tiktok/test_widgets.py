"""Every predefined TikTok widget through POST /metrics/get-data on an integration
connected to the emulator; video sums and the follower archive against its raw data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect.connectors.base import ConnectorContext, FetchRequest
from metrics_connect.networks.tiktok.connector.hooks import TikTokConnector
from metrics_connect.networks.tiktok.emulator.app import TikTokEmulator
from metrics_connect.networks.tiktok.emulator.network import build_sandbox
from metrics_connect.networks.tiktok.sync.demo import prepare_demo
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.connected import ConnectedNetwork, SharedClock, connected_network, frozen_clock
from tests.networks.widgets import (
    Periods,
    get_data,
    numbered,
    reference_widget,
    reference_widgets,
    widget_errors,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
END = date(2026, 11, 20)
PERIODS = Periods(END)


@dataclass
class Connected(ConnectedNetwork):
    @property
    def emulator(self) -> TikTokEmulator:
        return self.sandbox.emulator  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
def frozen(network: SandboxNetwork) -> Iterator[SharedClock]:
    with frozen_clock(network, NOW) as shared:
        yield shared


@pytest.fixture
async def tiktok(
    network: SandboxNetwork,
    frozen: SharedClock,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, tiktok_api_base_url="http://tiktok.test")
    async with connected_network(
        Connected, "tiktok", network, frozen, settings, PERIODS
    ) as connection:
        yield connection


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("tiktok", reference_key, **overrides)


def posted(connected: Connected, start: date, end: date) -> list[Any]:
    return [v for v in connected.emulator.data.videos(NOW) if start <= v.posted.date() <= end]


async def test_every_predefined_widget_answers_with_the_archive_replayed(
    tiktok: Connected, network: SandboxNetwork
) -> None:
    await prepare_demo(tiktok.runtime, tiktok.integration_uuid, network)
    widgets = numbered(reference_widgets("tiktok"))
    assert len(widgets) == 7
    result = await tiktok.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        if w["component"] == "number_v1":
            assert body["values"] is not None, w["reference_key"]
            assert body["comparison"]["values"] is not None, w["reference_key"]
        else:
            assert body["values"], w["reference_key"]
    data = tiktok.emulator.data
    follows = result["w5"] if widgets[5]["reference_key"] == "tiktok:follows" else None
    assert follows is not None
    # Now's count, and the count the sync archived on the comparison period's last day
    # (the replay runs each day at NOW's time of day).
    assert follows["values"] == data.followers_at(END, NOW)
    synced_at = datetime.combine(PERIODS.comparison_end, NOW.timetz())
    assert follows["comparison"]["values"] == data.followers_at(PERIODS.comparison_end, synced_at)


async def test_video_sums_are_the_periods_videos_lifetime_counts(tiktok: Connected) -> None:
    keys = ["tiktok:video_count", "tiktok:views", "tiktok:likes", "tiktok:comments", "tiktok:share"]
    result = await tiktok.get_data([widget(k) for k in keys])
    data = tiktok.emulator.data
    for part, (start, end) in {
        "values": (PERIODS.start, PERIODS.end),
        "comparison": (PERIODS.comparison_start, PERIODS.comparison_end),
    }.items():
        videos = posted(tiktok, start, end)
        stats = [data.video_stats(v, NOW) for v in videos]

        def value(key: str, part: str = part) -> Any:
            body = result[key]
            return body["values"] if part == "values" else body["comparison"]["values"]

        assert value("tiktok:video_count") == len(videos) > 0
        assert value("tiktok:views") == sum(s["video_views"] for s in stats)
        assert value("tiktok:likes") == sum(s["likes"] for s in stats)
        assert value("tiktok:comments") == sum(s["comments"] for s in stats)
        assert value("tiktok:share") == sum(s["shares"] for s in stats)


async def test_top_videos_are_sorted_by_views_with_their_titles(tiktok: Connected) -> None:
    result = await tiktok.get_data([widget("tiktok:top_videos")], comparison=False)
    rows = [r for r in result["tiktok:top_videos"]["values"] if r[0] != "Total"]
    views = [r[1] for r in rows]
    assert views == sorted(views, reverse=True)
    captions = {v.caption for v in posted(tiktok, PERIODS.start, PERIODS.end)}
    assert {r[0] for r in rows} <= captions


async def test_the_listing_stops_at_the_first_video_older_than_the_request(
    network: SandboxNetwork, frozen: SharedClock
) -> None:
    account = network.demo_account
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=network.app)) as http:
        ctx = ConnectorContext(
            integration_uuid="tt",
            external_id=account.external_id,
            credentials=dict(account.credentials),
            timezone=account.timezone,
            http=http,
            settings=Settings(),
            base_url="http://tiktok.test",
        )
        connector = TikTokConnector(ctx, now=lambda: NOW)
        network.controls.calls.reset()
        result = await connector.fetch(FetchRequest("videos", END - timedelta(days=9), END))
    assert network.controls.calls.by_endpoint == {"business.video.list": 1}
    assert len(result.objects) == len(
        [v for v in network.emulator.data.videos(NOW) if v.posted.date() >= END - timedelta(days=9)]
    )


@pytest.mark.parametrize(
    ("switch", "code"),
    [("revoked_tokens", "integration_revoked"), ("expired_tokens", "integration_expired")],
)
async def test_a_business_error_in_a_200_body_becomes_the_integration_status(
    tiktok: Connected, network: SandboxNetwork, switch: str, code: str
) -> None:
    tokens: set[str] = getattr(network.controls.switches, switch)
    token = str(network.demo_account.credentials["access_token"])
    tokens.add(token)
    try:
        result = await tiktok.get_data([widget("tiktok:views")], comparison=False)
    finally:
        tokens.discard(token)
    assert result["tiktok:views"]["error"]["code"] == code


async def test_daily_video_views_come_for_the_60_days_tiktok_keeps(tiktok: Connected) -> None:
    by_day = {
        "id": "daily",
        "component": "chart_v1",
        "metrics": ["video_views"],
        "dimensions": ["date"],
    }
    recent = await get_data(
        tiktok.client, tiktok.headers, tiktok.integration_uuid, [by_day], PERIODS,
        comparison=False, start=END - timedelta(days=14), end=END - timedelta(days=1),
    )  # fmt: skip
    data = tiktok.emulator.data
    expected = [
        data.day_metrics(END - timedelta(days=14 - i), NOW)["video_views"]  # type: ignore[index]
        for i in range(14)
    ]
    assert recent["daily"]["values"][0]["data"] == expected
    old = await get_data(
        tiktok.client, tiktok.headers, tiktok.integration_uuid, [by_day], PERIODS,
        comparison=False, start=END - timedelta(days=120), end=END - timedelta(days=100),
    )  # fmt: skip
    assert old["daily"]["error"]["code"] == "data_not_available"
