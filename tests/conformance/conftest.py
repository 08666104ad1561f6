"""The Graph emulators served on a loopback port (uvicorn in a thread), their clocks frozen
on 2026-12-02, for Meta's official SDK (`facebook-business`), which speaks real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from facebook_business.api import FacebookAdsApi
from facebook_business.session import FacebookSession

from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork, build_sandbox

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def sdk_api(base_url: str, api_version: str | None = None) -> FacebookAdsApi:
    """An SDK client on `base_url` (the SDK's session takes its host from GRAPH) with the
    SDK's own default version unless one is given."""
    session = FacebookSession(access_token=DEMO_ACCESS_TOKEN)
    session.GRAPH = base_url
    return FacebookAdsApi(session, api_version)


@pytest.fixture
def served() -> Iterator[tuple[SandboxNetwork, SandboxNetwork, str, str]]:
    ads, instagram = build_sandbox("facebook_ads"), build_sandbox("instagram_business")
    ads.controls.clock.set(NOW)
    instagram.controls.clock.set(NOW)
    ads_server = serve_in_background(ads.app, lifespan="off")
    ig_server = serve_in_background(instagram.app, lifespan="off")
    try:
        yield ads, instagram, ads_server.base_url, ig_server.base_url
    finally:
        ads_server.stop()
        ig_server.stop()
