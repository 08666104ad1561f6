"""The Meta Ads connector against the in-process Marketing API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.connectors.base import ConnectorContext
from metrics_connect.networks.facebook_ads.connector.hooks import FacebookAdsConnector
from metrics_connect.networks.facebook_ads.emulator.app import FacebookAdsEmulator
from metrics_connect.networks.facebook_ads.emulator.network import build_sandbox, emulator_of
from metrics_connect.sandbox.accounts import AD_ACCOUNT_ID, AD_ACCOUNT_TIMEZONE, DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings

NOW = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo


@pytest.fixture(autouse=True)
def service_clock() -> Iterator[None]:
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture
def network() -> SandboxNetwork:
    net = build_sandbox()
    net.controls.clock.set(NOW)
    return net


@pytest.fixture
def emulator(network: SandboxNetwork) -> FacebookAdsEmulator:
    return emulator_of(network)


@pytest.fixture
async def http(network: SandboxNetwork) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=network.app)) as client:
        yield client


@pytest.fixture
def make_connector(http: httpx.AsyncClient) -> Callable[..., FacebookAdsConnector]:
    def make(token: str = DEMO_ACCESS_TOKEN, **settings: Any) -> FacebookAdsConnector:
        values: dict[str, Any] = {"upstream_retry_budget_seconds": 3.0, **settings}
        ctx = ConnectorContext(
            integration_uuid="test-integration",
            external_id=AD_ACCOUNT_ID,
            credentials={"access_token": token},
            timezone=AD_ACCOUNT_TIMEZONE,
            http=http,
            base_url="http://graph.test",
            settings=Settings(**values),
        )
        return FacebookAdsConnector(ctx)

    return make


@pytest.fixture
def connector(make_connector: Callable[..., FacebookAdsConnector]) -> FacebookAdsConnector:
    return make_connector()
