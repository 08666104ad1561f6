"""An Instagram emulator per test, its clock frozen in the middle of the seed's period,
and an httpx client on it (in-process ASGI transport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from metrics_connect.networks.instagram_business.emulator.network import (
    InstagramSandboxNetwork,
    build_sandbox,
)
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, INSTAGRAM_USER_ID

NOW = datetime(2024, 9, 2, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
IG = INSTAGRAM_USER_ID
TOKEN = DEMO_ACCESS_TOKEN


@pytest.fixture
def network() -> InstagramSandboxNetwork:
    net = build_sandbox()
    net.controls.clock.set(NOW)
    return net


@pytest.fixture
def sandbox(network: InstagramSandboxNetwork) -> InstagramSandbox:
    return network.sandbox


@pytest.fixture
async def graph(network: InstagramSandboxNetwork) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=network.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test") as client:
        yield client


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    query = {"access_token": TOKEN, **{k: str(v) for k, v in params.items()}}
    return await client.get(path, params=query)
