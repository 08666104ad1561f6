"""The connector's requests on the emulator: the API's report rules, late days kept
incomplete until they settle, explain's calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect.connectors.base import ConnectorContext, FetchRequest, UpstreamError
from metrics_connect.networks.youtube.connector.hooks import YoutubeConnector, data_api_base
from metrics_connect.networks.youtube.emulator.network import build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)  # in Los Angeles


@pytest.fixture
async def on_emulator() -> AsyncIterator[tuple[YoutubeConnector, SandboxNetwork]]:
    network = build_sandbox()
    network.controls.clock.set(NOW)
    account = network.demo_account
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=network.app)) as http:
        ctx = ConnectorContext(
            integration_uuid="yt",
            external_id=account.external_id,
            credentials=dict(account.credentials),
            timezone=account.timezone,
            http=http,
            settings=Settings(),
            base_url="http://youtube.test",
        )
        yield YoutubeConnector(ctx, now=lambda: NOW), network


async def test_the_last_three_days_stay_incomplete_until_they_arrive(
    on_emulator: tuple[YoutubeConnector, SandboxNetwork],
) -> None:
    connector, network = on_emulator
    result = await connector.fetch(FetchRequest("channel_daily", TODAY - timedelta(days=9), TODAY))
    days = sorted(r.day for r in result.rows if r.day is not None)
    # The emulator has nothing for the last two days yet, part of the one before.
    assert days[-1] == TODAY - timedelta(days=2)
    assert result.incomplete_days == {TODAY - timedelta(days=i) for i in range(3)}
    data: Any = network.emulator
    partial = next(r for r in result.rows if r.day == TODAY - timedelta(days=2))
    full = sum(
        data.data.cell(u, TODAY - timedelta(days=2)).views
        for u in data.data.uploads(TODAY - timedelta(days=2))
    )
    assert 0 < partial.values["views"] < full


async def test_top_videos_ask_the_reports_rules_and_one_videos_call(
    on_emulator: tuple[YoutubeConnector, SandboxNetwork],
) -> None:
    connector, network = on_emulator
    request = FetchRequest(
        "top_videos", TODAY - timedelta(days=30), TODAY, breakdowns=("video", "video_title")
    )
    planned = connector.plan_calls(request)
    assert [c.path for c in planned] == ["/v2/reports", "/youtube/v3/videos"]
    report = planned[0].params
    assert (report["dimensions"], report["sort"], report["maxResults"]) == ("video", "-views", "50")
    network.controls.calls.reset()
    result = await connector.fetch(request)
    assert network.controls.calls.by_endpoint == {"reports.query": 1, "videos.list": 1}
    views = [r.values["views"] for r in result.rows]
    assert len(views) == 50 and views == sorted(views, reverse=True)
    assert all(r.keys["video_title"] != r.keys["video"] for r in result.rows)
    assert all(str(r.values["publishedAt"]).endswith("Z") for r in result.rows)


async def test_viewer_percentages_need_age_or_gender(
    on_emulator: tuple[YoutubeConnector, SandboxNetwork],
) -> None:
    connector, _ = on_emulator
    with pytest.raises(UpstreamError):
        connector.plan_calls(FetchRequest("demographics", TODAY - timedelta(days=30), TODAY))
    result = await connector.fetch(
        FetchRequest("demographics", TODAY - timedelta(days=30), TODAY, breakdowns=("gender",))
    )
    shares = {r.keys["gender"]: r.values["viewerPercentage"] for r in result.rows}
    assert set(shares) == {"female", "male", "user_specified"}
    assert sum(shares.values()) == pytest.approx(100, abs=0.2)


def test_the_data_api_host() -> None:
    assert data_api_base("https://youtubeanalytics.googleapis.com", "") == (
        "https://youtube.googleapis.com"
    )
    assert data_api_base("http://127.0.0.1:8103/", None) == "http://127.0.0.1:8103"
    assert data_api_base("http://a.test", "http://b.test/") == "http://b.test"
