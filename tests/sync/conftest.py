"""A runtime whose Instagram upstream is the in-process emulator, and a connected
integration of the emulator's demo account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from metrics_connect.accounts import service
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.instagram.network import InstagramSandboxNetwork, build_sandbox
from metrics_connect.settings import Settings

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
        account = network.demo_account
        async with runtime.db.session() as session:
            m = await service.create_merchant(
                session,
                runtime.vault,
                runtime.settings,
                "Agency",
                rate_limit_per_second=100,
                rate_limit_per_minute=1000,
            )
            c = await service.create_customer(
                session, runtime.settings, m.record, "Coffee", is_paying=True
            )
            integration = await service.create_integration(
                session,
                runtime.vault,
                c.record,
                slug="instagram_business",
                source_name=account.source_name,
                external_id=account.external_id,
                credentials={"access_token": token or account.credentials["access_token"]},
                timezone=account.timezone,
            )
            integration.connected_at = connected_at
            await session.commit()
            return integration

    return connect
