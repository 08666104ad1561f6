"""The Instagram connector against the in-process Graph API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from metrics_connect.connectors.base import ConnectorContext
from metrics_connect.networks.instagram_business.connector.hooks import InstagramConnector
from metrics_connect.networks.instagram_business.emulator.network import (
    InstagramSandboxNetwork,
    build_sandbox,
)
from metrics_connect.settings import Settings

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
BASE_URL = "http://graph.test"


@dataclass
class Recorder:
    requests: list[httpx.Request] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def gets(self, suffix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "GET" and r.url.path.endswith(suffix)]

    def posts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST"]


@pytest.fixture
def network() -> InstagramSandboxNetwork:
    net = build_sandbox()
    net.controls.clock.set(NOW)
    return net


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def http(
    network: InstagramSandboxNetwork, recorder: Recorder
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=network.app),
        base_url=BASE_URL,
        event_hooks={"request": [recorder]},
    ) as client:
        yield client


@pytest.fixture
def make_connector(
    network: InstagramSandboxNetwork, http: httpx.AsyncClient
) -> Callable[..., InstagramConnector]:
    def make(token: str | None = None, **settings: Any) -> InstagramConnector:
        values: dict[str, Any] = {
            "credentials_key": Fernet.generate_key().decode(),
            "upstream_retry_budget_seconds": 10.0,
        }
        values.update(settings)
        account = network.demo_account
        ctx = ConnectorContext(
            integration_uuid="test-integration",
            external_id=account.external_id,
            credentials={"access_token": token or account.credentials["access_token"]},
            timezone=account.timezone,
            http=http,
            base_url=BASE_URL,
            settings=Settings(**values),
        )
        return InstagramConnector(ctx, now=network.controls.clock.now)

    return make


@pytest.fixture
def connector(make_connector: Callable[..., InstagramConnector]) -> InstagramConnector:
    return make_connector()
