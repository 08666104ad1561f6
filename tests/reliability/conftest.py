"""Fixtures of the reliability suite: long-mode switch, a dedicated PostgreSQL database,
tenants made straight in the database, and TCP gates in front of real services.

The short suite runs with the normal tests. METRICS_CONNECT_LONG_RELIABILITY=1 turns on
the long version: more generated examples, more requests under faults, the 10-minute soak.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
import redis.asyncio.connection
import uvicorn
from sqlalchemy import update
from sqlalchemy.engine import make_url

from metrics_connect import clock
from metrics_connect.accounts import service
from metrics_connect.accounts.models import Merchant
from metrics_connect.api.app import create_app
from metrics_connect.demo.seed import seed_demo
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.kit.controls import SandboxSwitches
from metrics_connect.sandbox.registry import build_sandbox
from tests.conftest import POSTGRES_URL, REDIS_URL, Tenant, private_postgres_database
from tests.reliability.gate import TcpGate, free_port

LONG = os.environ.get("METRICS_CONNECT_LONG_RELIABILITY") == "1"

SLUG = "instagram_business"


def scaled(short: int, long: int) -> int:
    return long if LONG else short


@dataclass
class Stack:
    """The service (lifespan run) with the demo tenant on an Instagram emulator."""

    client: httpx.AsyncClient
    runtime: Runtime
    headers: dict[str, str]
    integration: str
    switches: SandboxSwitches
    timezone: str


StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


@pytest.fixture
def stack_factory(sqlite_url: str, settings_factory: Callable[..., Any]) -> StackFactory:
    @asynccontextmanager
    async def make(
        database_url: str | None = None, frozen_at: datetime | None = None, **overrides: Any
    ) -> AsyncIterator[Stack]:
        # The emulator on a real loopback socket: per-call timeouts apply (an in-process
        # ASGI transport would ignore them).
        sandbox = build_sandbox(SLUG)
        if frozen_at is not None:
            # One instant for the network and the service: answers comparable across runs.
            sandbox.controls.clock.set(frozen_at)
            clock.set_clock(lambda: frozen_at)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                sandbox.app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                timeout_graceful_shutdown=5,  # a request still held by a slow fault
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        # A short retry budget keeps fault tests quick; the per-call timeout stays the
        # service's own (the emulator shares this event loop, so on a loaded machine a
        # healthy call can take seconds). Tests of slow calls set their own.
        values: dict[str, Any] = {
            "instagram_api_base_url": f"http://127.0.0.1:{port}",
            "upstream_retry_budget_seconds": 2.0,
        }
        values.update(overrides)
        settings = settings_factory(database_url or sqlite_url, **values)
        runtime = Runtime.from_settings(settings)
        assert settings.credentials_key is not None
        try:
            tenant = await seed_demo(
                runtime, settings.credentials_key, {SLUG: sandbox.demo_account}
            )
            async with runtime.db.session() as session:  # load tests, not the limiter
                await session.execute(
                    update(Merchant)
                    .where(Merchant.uuid == tenant.merchant_uuid)
                    .values(rate_limit_per_second=100_000, rate_limit_per_minute=1_000_000)
                )
                await session.commit()
            app = create_app(runtime=runtime)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://testserver"
                ) as client,
            ):
                yield Stack(
                    client,
                    runtime,
                    {
                        "Authorization": f"Bearer {tenant.merchant_token}",
                        "x-customer-token": tenant.customer_token,
                    },
                    tenant.integrations[SLUG],
                    sandbox.controls.switches,
                    sandbox.demo_account.timezone,
                )
        finally:
            clock.set_clock(None)
            server.should_exit = True
            await serving

    return make


@pytest.fixture(scope="session")
def reliability_postgres_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("needs METRICS_CONNECT_TEST_POSTGRES_URL (CI sets it)")
    with private_postgres_database(POSTGRES_URL, "metrics_connect_reliability") as url:
        yield url


def url_through(url: str, gate: TcpGate) -> str:
    """The same URL with host and port replaced by the gate's."""
    u = make_url(url)
    return u.set(host="127.0.0.1", port=gate.port).render_as_string(hide_password=False)


@pytest.fixture
async def gate_factory() -> AsyncIterator[Callable[[str], Awaitable[TcpGate]]]:
    gates: list[TcpGate] = []

    async def make(url: str) -> TcpGate:
        u = make_url(url)
        default_port = {"postgresql": 5432, "redis": 6379}[u.get_backend_name()]
        gate = TcpGate(u.host or "127.0.0.1", u.port or default_port)
        await gate.open()
        gates.append(gate)
        return gate

    yield make
    for gate in gates:
        await gate.close()


@pytest.fixture
def live_redis_url() -> str:
    if not REDIS_URL:
        pytest.skip("needs METRICS_CONNECT_TEST_REDIS_URL (CI sets it)")
    return REDIS_URL


async def create_tenant(
    runtime: Runtime, *, per_second: int = 1000, per_minute: int = 100000
) -> Tenant:
    async with runtime.db.session() as session:
        m = await service.create_merchant(
            session,
            runtime.vault,
            runtime.settings,
            "Reliability agency",
            rate_limit_per_second=per_second,
            rate_limit_per_minute=per_minute,
        )
        c = await service.create_customer(
            session, runtime.settings, m.record, "Reliability customer", is_paying=True
        )
        await session.commit()
        return Tenant(m.record.uuid, m.token, c.record.uuid, c.token)


def json_body(response: Any) -> dict[str, Any]:
    """The body as a JSON object (fails the test on HTML, text or a list)."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def count_redis_sends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per command batch any Redis connection sends from now on."""
    sends: list[int] = []
    original = redis.asyncio.connection.AbstractConnection.send_packed_command

    async def counted(self: object, *args: object, **kwargs: object) -> None:
        sends.append(1)
        await original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(redis.asyncio.connection.AbstractConnection, "send_packed_command", counted)
    return sends
