"""The engine against the in-process Instagram emulator: an app, a tenant, an integration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from metrics_connect import clock
from metrics_connect.accounts import service
from metrics_connect.api.app import create_app
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.instagram.network import InstagramSandboxNetwork, build_sandbox
from metrics_connect.settings import Settings

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
GRAPH_URL = "http://graph.test"


class SharedClock:
    """One now for the service and the emulator, moved together."""

    def __init__(self, network: InstagramSandboxNetwork, start: datetime) -> None:
        self.network = network
        self.current = start
        network.controls.clock.set(start)

    def __call__(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant
        self.network.controls.clock.set(instant)


@pytest.fixture
def ig_network() -> InstagramSandboxNetwork:
    return build_sandbox()


@pytest.fixture
def shared_clock(ig_network: InstagramSandboxNetwork) -> Iterator[SharedClock]:
    fake = SharedClock(ig_network, NOW)
    clock.set_clock(fake)
    yield fake
    clock.set_clock(None)


@pytest.fixture
def ig_settings(sqlite_url: str, settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(sqlite_url, instagram_api_base_url=GRAPH_URL)


@pytest.fixture
def ig_runtime(ig_settings: Settings, ig_network: InstagramSandboxNetwork) -> Runtime:
    runtime = Runtime.from_settings(ig_settings)
    runtime.upstream_transports["instagram_business"] = httpx.ASGITransport(app=ig_network.app)
    return runtime


@pytest.fixture
def ig_app(ig_runtime: Runtime) -> FastAPI:
    return create_app(runtime=ig_runtime)


@pytest.fixture
async def ig_client(ig_app: FastAPI, shared_clock: SharedClock) -> AsyncIterator[httpx.AsyncClient]:
    async with ig_app.router.lifespan_context(ig_app):
        transport = httpx.ASGITransport(app=ig_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@dataclass
class Connected:
    headers: dict[str, str]
    integration_uuid: str
    integration_id: int
    network: InstagramSandboxNetwork

    def body(
        self, start: str, end: str, widgets: list[dict[str, Any]], **extra: Any
    ) -> dict[str, Any]:
        return {
            "customer_integration": self.integration_uuid,
            "start": start,
            "end": end,
            "metrics": widgets,
            **extra,
        }


@pytest.fixture
async def connected(
    ig_runtime: Runtime, ig_network: InstagramSandboxNetwork, ig_client: httpx.AsyncClient
) -> Connected:
    account = ig_network.demo_account
    async with ig_runtime.db.session() as session:
        m = await service.create_merchant(
            session,
            ig_runtime.vault,
            ig_runtime.settings,
            "Agency",
            rate_limit_per_second=100000,
            rate_limit_per_minute=1000000,
        )
        c = await service.create_customer(
            session, ig_runtime.settings, m.record, "Coffee", is_paying=True
        )
        integration = await service.create_integration(
            session,
            ig_runtime.vault,
            c.record,
            slug="instagram_business",
            source_name=account.source_name,
            external_id=account.external_id,
            credentials=dict(account.credentials),
            timezone=account.timezone,
        )
        await session.commit()
        headers = {"Authorization": f"Bearer {m.token}", "x-customer-token": c.token}
        return Connected(headers, integration.uuid, integration.id, ig_network)
