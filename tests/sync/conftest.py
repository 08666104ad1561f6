"""A runtime whose Instagram upstream is the in-process emulator, and a connected
integration of the emulator's demo account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.networks.instagram_business.emulator.network import (
    InstagramSandboxNetwork,
    build_sandbox,
)
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import connect_account

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
BASE_URL = "http://graph.test"


@pytest.fixture
def network() -> InstagramSandboxNetwork:
    net = build_sandbox()
    net.controls.clock.set(NOW)
    return net


@pytest.fixture
def settings(db_url: str, settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(
        db_url, instagram_api_base_url=BASE_URL, upstream_retry_budget_seconds=5.0
    )


@pytest.fixture
def runtime(settings: Settings, network: InstagramSandboxNetwork) -> Runtime:
    rt = Runtime.from_settings(settings)
    rt.upstream_transports["instagram_business"] = httpx.ASGITransport(app=network.app)
    return rt


@pytest.fixture
def connect_instagram(runtime: Runtime, network: InstagramSandboxNetwork) -> Callable[..., Any]:
    async def connect(connected_at: datetime, token: str | None = None) -> CustomerIntegration:
        demo = network.demo_account
        account = await connect_account(
            runtime,
            "instagram_business",
            demo,
            credentials={"access_token": token or demo.credentials["access_token"]},
            connected_at=connected_at,
        )
        async with runtime.db.session() as session:
            row = await session.get(CustomerIntegration, account.integration_id)
        assert row is not None
        return row

    return connect
