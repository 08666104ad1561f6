"""Connecting a YouTube channel on the connect page: Google sign-in with the YouTube
scopes, then the channel picker, which lists the login's channels with the Data API's
channels.list (mine=true) on the YouTube host, not the Analytics Admin API."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.networks.youtube.accounts import DATA_HOST, listing_host
from metrics_connect.networks.youtube.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.connect.conftest import Driver, Emulators, new_session, session_path

YOUTUBE_BASE = "http://youtube.sandbox"


class ByHost(httpx.AsyncBaseTransport):
    """The Google sign-in emulator, and the YouTube emulator on its own host."""

    def __init__(self, google: httpx.AsyncBaseTransport, youtube: httpx.AsyncBaseTransport):
        self.google, self.youtube = google, youtube
        self.youtube_paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "youtube.sandbox":
            self.youtube_paths.append(request.url.path)
            return await self.youtube.handle_async_request(request)
        return await self.google.handle_async_request(request)


@pytest.fixture
def youtube_runtime(runtime: Runtime, emulators: Emulators) -> tuple[Runtime, ByHost]:
    runtime.settings.youtube_api_base_url = YOUTUBE_BASE  # type: ignore[attr-defined]
    routed = ByHost(emulators.google_upstream, httpx.ASGITransport(app=build_sandbox().app))
    runtime.upstream_transports[oauth_transport_key("google")] = routed
    return runtime, routed


async def test_a_channel_is_picked_from_the_logins_channels(
    client: httpx.AsyncClient,
    tenant: Any,
    driver: Driver,
    youtube_runtime: tuple[Runtime, ByHost],
    served_networks: list[dict[str, str]],
) -> None:
    runtime, routed = youtube_runtime
    served_networks.append({"name": "YouTube", "slug": "youtube"})
    session = await new_session(client, tenant.headers)
    authorize = await driver.start(session_path(session), "youtube")
    scopes = parse_qs(urlsplit(authorize).query)["scope"][0].split(" ")
    assert "https://www.googleapis.com/auth/yt-analytics.readonly" in scopes
    assert "https://www.googleapis.com/auth/youtube.readonly" in scopes
    done = await driver.finish(await driver.authorize(authorize))
    assert done.status_code == 303, done.text
    assert routed.youtube_paths == ["/youtube/v3/channels"]
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration))
    assert row is not None and row.slug == "youtube"
    assert row.external_id == build_sandbox().demo_account.external_id
    assert row.timezone == "America/Los_Angeles"


def test_the_listing_host_is_googles_data_api_in_production() -> None:
    assert listing_host(Settings().youtube_api_base_url) == DATA_HOST  # type: ignore[attr-defined]
    assert listing_host(YOUTUBE_BASE + "/") == YOUTUBE_BASE
