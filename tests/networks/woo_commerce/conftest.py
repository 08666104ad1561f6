"""One sandbox store per module and an integration connected to it (its first sync, the
backfill, shared by the module's read-only tests); a fresh one for tests that move the
clock."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.connectors.context import connector_for
from metrics_connect.networks.woo_commerce.emulator.data import StoreData
from metrics_connect.networks.woo_commerce.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from metrics_connect.sync.records import sync_records
from metrics_connect.sync.service import load_integration
from tests.conftest import connect_account, serving
from tests.networks.widgets import Periods, get_data

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PERIODS = Periods(date(2026, 11, 19))


class SharedClock:
    """One now for the service and the emulator, moved together."""

    def __init__(self, sandbox: SandboxNetwork) -> None:
        self.sandbox = sandbox
        self.set(NOW)

    def __call__(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant
        self.sandbox.controls.clock.set(instant)


@dataclass
class Connected:
    client: httpx.AsyncClient
    headers: dict[str, str]
    integration_uuid: str
    data: StoreData
    sandbox: SandboxNetwork
    clock: SharedClock
    runtime: Runtime

    async def get_data(self, widgets: list[dict[str, Any]], comparison: bool = True) -> Any:
        return await get_data(
            self.client,
            self.headers,
            self.integration_uuid,
            widgets,
            PERIODS,
            comparison=comparison,
        )

    async def archive(self, *instants: datetime) -> None:
        """The scheduled sync run at these instants (the daily "now" snapshots)."""
        integration = await load_integration(self.runtime, self.integration_uuid)
        assert integration is not None
        connector = connector_for(self.runtime, integration)
        for at in instants:
            self.sandbox.controls.clock.set(at)
            await sync_records(self.runtime, integration, connector, at)
        self.clock.set(self.clock.current)


@pytest.fixture(scope="module")
def store_sandbox() -> Iterator[SandboxNetwork]:
    yield build_sandbox()


def woo_settings(folder: Path, template: Path, **overrides: Any) -> Settings:
    shutil.copyfile(template, folder / "test.db")
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{folder / 'test.db'}",
        "data_dir": folder / "data",
        "credentials_key": Fernet.generate_key().decode(),
        "log_json": True,
        "sync_enabled": False,
        "public_base_url": "http://testserver",
        "woo_commerce_api_base_url": "http://store.test",
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def connected(
    sandbox: SandboxNetwork,
    settings: Settings,
    credentials: dict[str, Any] | None = None,
    *,
    store: Any = None,
    routed: bool = True,
) -> AsyncIterator[Connected]:
    """Connected to the sandbox store (or `store`, another app) in-process; not `routed`:
    over the network, at the settings' base URL."""
    shared = SharedClock(sandbox)
    clock.set_clock(shared)
    runtime = Runtime.from_settings(settings)
    if routed:
        app = store or sandbox.app
        runtime.upstream_transports["woo_commerce"] = httpx.ASGITransport(app=app)
    try:
        async with serving(create_app(runtime=runtime)) as client:
            account = await connect_account(
                runtime, "woo_commerce", sandbox.demo_account, credentials=credentials
            )
            data: StoreData = sandbox.data  # type: ignore[attr-defined]
            yield Connected(
                client, account.headers, account.integration_uuid, data, sandbox, shared, runtime
            )
    finally:
        clock.set_clock(None)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def woo(
    store_sandbox: SandboxNetwork, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Connected]:
    settings = woo_settings(tmp_path_factory.mktemp("woo"), sqlite_template)
    async with connected(store_sandbox, settings) as woo:
        yield woo


@pytest_asyncio.fixture(loop_scope="module")
async def fresh_woo(
    store_sandbox: SandboxNetwork, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[Connected]:
    async with connected(store_sandbox, woo_settings(tmp_path, sqlite_template)) as woo:
        yield woo
