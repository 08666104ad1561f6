"""An in-process Marketing API emulator with a frozen clock, and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from metrics_connect.networks.facebook_ads.emulator.app import FacebookAdsEmulator
from metrics_connect.networks.facebook_ads.emulator.network import build_sandbox, emulator_of
from metrics_connect.sandbox.registry import SandboxNetwork

NOW = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo


@pytest.fixture
def network() -> SandboxNetwork:
    net = build_sandbox()
    net.controls.clock.set(NOW)
    return net


@pytest.fixture
def emulator(network: SandboxNetwork) -> FacebookAdsEmulator:
    return emulator_of(network)


@pytest.fixture
async def graph(network: SandboxNetwork) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=network.app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://graph.test/v24.0",  # the newest version on NOW
        params={"access_token": "sandbox-token"},
    ) as client:
        yield client
