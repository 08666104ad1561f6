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
from metrics_connect.accounts.models import Customer
from metrics_connect.api.app import create_app
from metrics_connect.networks.instagram_business.emulator.network import (
    InstagramSandboxNetwork,
    build_sandbox,
)
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import connect_account

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


class RecordingTransport(httpx.AsyncBaseTransport):
    """The emulator's transport, remembering every upstream request the service made."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def upstream(ig_network: InstagramSandboxNetwork) -> RecordingTransport:
    return RecordingTransport(ig_network.app)


@pytest.fixture
def ig_runtime(ig_settings: Settings, upstream: RecordingTransport) -> Runtime:
    runtime = Runtime.from_settings(ig_settings)
    runtime.upstream_transports["instagram_business"] = upstream
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
    client: httpx.AsyncClient
    runtime: Runtime
    customer_id: int

    @property
    def calls(self) -> int:
        return self.network.controls.calls.total

    async def get_data(self, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/metrics/get-data", json=body, headers=self.headers, params=params
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def another_integration(self) -> str:
        """A second connection of the same account, with its own (empty) store."""
        account = self.network.demo_account
        async with self.runtime.db.session() as session:
            customer = await session.get(Customer, self.customer_id)
            assert customer is not None
            integration = await service.create_integration(
                session,
                self.runtime.vault,
                customer,
                slug="instagram_business",
                source_name=account.source_name,
                external_id=account.external_id,
                credentials=dict(account.credentials),
                timezone=account.timezone,
            )
            await session.commit()
            return integration.uuid

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
    account = await connect_account(ig_runtime, "instagram_business", ig_network.demo_account)
    return Connected(
        account.headers,
        account.integration_uuid,
        account.integration_id,
        ig_network,
        ig_client,
        ig_runtime,
        account.customer_id,
    )


async def bare_integration(
    runtime: Runtime, *, slug: str = "instagram_business", timezone: str = "UTC"
) -> int:
    """A merchant, a customer and one integration without credentials: the integration's
    id, for tests of the store and the coordinator that call no network."""
    async with runtime.db.session() as session:
        m = await service.create_merchant(session, runtime.vault, runtime.settings, "M")
        c = await service.create_customer(session, runtime.settings, m.record, "C")
        i = await service.create_integration(
            session,
            runtime.vault,
            c.record,
            slug=slug,
            source_name="x",
            external_id="1",
            credentials={},
            timezone=timezone,
        )
        await session.commit()
        return i.id
