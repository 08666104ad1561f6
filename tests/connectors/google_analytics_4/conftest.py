"""A GA4 connector wired to the emulator in-process, both clocks frozen at the same instant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.connectors.base import ConnectorContext
from metrics_connect.networks.google_analytics_4.connector.hooks import (
    GoogleAnalytics4Connector,
)
from metrics_connect.networks.google_analytics_4.emulator.app import Ga4Emulator, create_app
from metrics_connect.networks.google_analytics_4.emulator.network import build_emulator
from metrics_connect.sandbox.accounts import (
    DEMO_ACCESS_TOKEN,
    DEMO_REFRESH_TOKEN,
    GA4_PROPERTY_ID,
    GA4_TIMEZONE,
)
from metrics_connect.settings import Settings

NOW = datetime(2026, 3, 18, 18, 30, tzinfo=UTC)  # 15:30 in Sao Paulo


@pytest.fixture
def emulator() -> Iterator[Ga4Emulator]:
    emu = build_emulator()
    emu.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    yield emu
    clock.set_clock(None)


@pytest.fixture
async def http(emulator: Ga4Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(emulator))) as c:
        yield c


@pytest.fixture
def make_connector(http: httpx.AsyncClient) -> Callable[..., GoogleAnalytics4Connector]:
    def make(
        credentials: dict[str, Any] | None = None, **settings: Any
    ) -> GoogleAnalytics4Connector:
        ctx = ConnectorContext(
            integration_uuid="ga4-test",
            external_id=GA4_PROPERTY_ID,
            credentials=credentials
            if credentials is not None
            else {"access_token": DEMO_ACCESS_TOKEN},
            timezone=GA4_TIMEZONE,
            http=http,
            base_url="http://analyticsdata.test",
            settings=Settings(
                upstream_retry_budget_seconds=settings.pop("budget", 3.0),
                google_token_url="http://analyticsdata.test/token",
                **settings,
            ),
        )
        return GoogleAnalytics4Connector(ctx)

    return make


@pytest.fixture
def connector(
    make_connector: Callable[..., GoogleAnalytics4Connector],
) -> GoogleAnalytics4Connector:
    return make_connector()


REFRESHABLE = {"access_token": "sandbox-stale", "refresh_token": DEMO_REFRESH_TOKEN}
