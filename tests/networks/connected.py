"""A network's emulator connected in-process to the service: one clock for both, and a
paying customer's integration of the demo account that widget and sync tests ask."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving
from tests.networks.widgets import Periods, get_data


class SharedClock:
    """One now for the service and the emulator, moved together."""

    def __init__(self, sandbox: SandboxNetwork, now: datetime) -> None:
        self.sandbox = sandbox
        self.set(now)

    def __call__(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant
        self.sandbox.controls.clock.set(instant)


@contextmanager
def frozen_clock(sandbox: SandboxNetwork, now: datetime) -> Iterator[SharedClock]:
    """The service's clock and the emulator's at `now` until the block ends."""
    shared = SharedClock(sandbox, now)
    clock.set_clock(shared)
    try:
        yield shared
    finally:
        clock.set_clock(None)


@contextmanager
def frozen_sandbox(sandbox: SandboxNetwork, now: datetime) -> Iterator[SandboxNetwork]:
    """The emulator and the service stopped at `now` (for tests that never move it)."""
    sandbox.controls.clock.set(now)
    clock.set_clock(lambda: now)
    try:
        yield sandbox
    finally:
        clock.set_clock(None)


@dataclass
class ConnectedNetwork:
    """The service serving an integration of the emulator's demo account. A test file
    extends it with its own readers of the emulator's raw data (`data`, typed there)."""

    client: httpx.AsyncClient
    headers: dict[str, str]
    integration_uuid: str
    integration_id: int
    sandbox: SandboxNetwork
    clock: SharedClock
    runtime: Runtime
    periods: Periods
    data: Any

    async def get_data(self, widgets: list[dict[str, Any]], comparison: bool = True) -> Any:
        """POST /metrics/get-data over the file's periods, which must answer 200."""
        return await get_data(
            self.client,
            self.headers,
            self.integration_uuid,
            widgets,
            self.periods,
            comparison=comparison,
        )


Connected = TypeVar("Connected", bound=ConnectedNetwork)


@asynccontextmanager
async def connected_network(
    kind: type[Connected],
    slug: str,
    sandbox: SandboxNetwork,
    shared: SharedClock,
    settings: Settings,
    periods: Periods,
    *,
    credentials: dict[str, Any] | None = None,
    upstream: Any = None,
) -> AsyncIterator[Connected]:
    """The service on `settings`, its calls to the network routed to the emulator (or to
    `upstream`, another app), and the demo account connected (with `credentials`)."""
    runtime = Runtime.from_settings(settings)
    app = upstream if upstream is not None else sandbox.app
    runtime.upstream_transports[slug] = httpx.ASGITransport(app=app)
    async with serving(create_app(runtime=runtime)) as client:
        account = await connect_account(
            runtime, slug, sandbox.demo_account, credentials=credentials
        )
        yield kind(
            client=client,
            headers=account.headers,
            integration_uuid=account.integration_uuid,
            integration_id=account.integration_id,
            sandbox=sandbox,
            clock=shared,
            runtime=runtime,
            periods=periods,
            data=getattr(sandbox, "data", None),
        )
