"""The emulator driven by Google's own client, google-api-python-client, with its
bundled discovery documents (youtubeAnalytics v2, youtube v3) pointed at loopback: the
paths, parameters, answers and error envelopes are what that client expects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

pytest.importorskip("googleapiclient")

import httplib2  # noqa: E402
from google.oauth2.credentials import Credentials  # noqa: E402
from googleapiclient.discovery import build  # noqa: E402
from googleapiclient.errors import HttpError  # noqa: E402

from metrics_connect.networks.youtube.emulator.network import build_sandbox  # noqa: E402
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN  # noqa: E402
from metrics_connect.sandbox.oauth.serve import serve_in_background  # noqa: E402
from metrics_connect.sandbox.registry import SandboxNetwork  # noqa: E402

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SandboxNetwork, str]]:
    network = build_sandbox()
    network.controls.clock.set(NOW)
    running = serve_in_background(network.app)
    yield network, running.base_url
    running.stop()


def client(base_url: str, name: str, version: str, token: str = DEMO_ACCESS_TOKEN) -> Any:
    return build(
        name,
        version,
        credentials=Credentials(token),
        static_discovery=True,
        client_options={"api_endpoint": base_url},
    )


def test_reports_query_by_day(served: tuple[SandboxNetwork, str]) -> None:
    network, base = served
    analytics = client(base, "youtubeAnalytics", "v2")
    answer = (
        analytics.reports()
        .query(
            ids="channel==MINE",
            startDate="2026-10-01",
            endDate="2026-10-31",
            metrics="views,estimatedMinutesWatched,averageViewDuration,subscribersGained",
            dimensions="day",
            sort="day",
        )
        .execute()
    )
    assert answer["kind"] == "youtubeAnalytics#resultTable"
    assert [h["name"] for h in answer["columnHeaders"]] == [
        "day",
        "views",
        "estimatedMinutesWatched",
        "averageViewDuration",
        "subscribersGained",
    ]
    assert len(answer["rows"]) == 31 and answer["rows"][0][0] == "2026-10-01"
    data = network.emulator.data
    first = sum(cell.views for _, cell in data.day_cells(date(2026, 10, 1), NOW))
    assert answer["rows"][0][1] == first > 0


def test_top_videos_need_a_descending_sort_and_max_results(
    served: tuple[SandboxNetwork, str],
) -> None:
    analytics = client(served[1], "youtubeAnalytics", "v2")
    query = {
        "ids": "channel==MINE",
        "startDate": "2026-10-01",
        "endDate": "2026-10-31",
        "metrics": "views,likes",
        "dimensions": "video",
    }
    with pytest.raises(HttpError) as refused:
        analytics.reports().query(**query).execute()
    assert refused.value.resp.status == 400
    assert "The query is not supported" in str(refused.value)
    answer = analytics.reports().query(**query, sort="-views", maxResults=10).execute()
    views = [row[1] for row in answer["rows"]]
    assert len(views) == 10 and views == sorted(views, reverse=True)


def test_channels_playlist_items_and_videos(served: tuple[SandboxNetwork, str]) -> None:
    youtube = client(served[1], "youtube", "v3")
    channels = (
        youtube.channels().list(part="snippet,statistics,contentDetails", mine=True).execute()
    )
    channel = channels["items"][0]
    assert channel["snippet"]["title"] == "Acme Coffee Roasters"
    assert int(channel["statistics"]["subscriberCount"]) > 0
    uploads = channel["contentDetails"]["relatedPlaylists"]["uploads"]
    listing = youtube.playlistItems().list(part="contentDetails", playlistId=uploads, maxResults=50)
    ids: list[str] = []
    while listing is not None:
        page = listing.execute()
        ids += [item["contentDetails"]["videoId"] for item in page["items"]]
        listing = youtube.playlistItems().list_next(listing, page)
    assert len(ids) == int(channel["statistics"]["videoCount"])
    videos = youtube.videos().list(part="snippet,statistics", id=",".join(ids[:50])).execute()
    assert [v["id"] for v in videos["items"]] == ids[:50]
    published = [v["snippet"]["publishedAt"] for v in videos["items"]]
    assert published == sorted(published, reverse=True)


def test_expired_and_revoked_tokens_answer_google_errors(
    served: tuple[SandboxNetwork, str],
) -> None:
    network, base = served
    expired, revoked = "sandbox-yt-expired", "sandbox-yt-revoked"
    network.controls.switches.expired_tokens.add(expired)
    network.controls.switches.revoked_tokens.add(revoked)
    # A plain HTTP client: google-auth's credentials would try to refresh on a 401.
    youtube = build(
        "youtube",
        "v3",
        http=httplib2.Http(),
        static_discovery=True,
        client_options={"api_endpoint": base},
    )
    for token, status in ((expired, 401), (revoked, 403)):
        request = youtube.channels().list(part="statistics", mine=True)
        request.headers["authorization"] = f"Bearer {token}"
        with pytest.raises(HttpError) as refused:
            request.execute()
        assert refused.value.resp.status == status
        assert refused.value.error_details  # errors[] with a reason, as YouTube sends


def test_rate_limited_answer(served: tuple[SandboxNetwork, str]) -> None:
    network, base = served
    network.controls.switches.rate_limit_next = 1
    analytics = client(base, "youtubeAnalytics", "v2")
    end = date(2026, 11, 1)
    with pytest.raises(HttpError) as refused:
        analytics.reports().query(
            ids="channel==MINE",
            startDate=(end - timedelta(days=6)).isoformat(),
            endDate=end.isoformat(),
            metrics="views",
        ).execute(num_retries=0)
    assert refused.value.resp.status == 429
