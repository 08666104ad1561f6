"""One sandbox store per module and an integration connected to it (its first sync, the
backfill, shared by the module's read-only tests); a fresh one for tests that move the
clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from metrics_connect.connectors.context import connector_for
from metrics_connect.networks.woo_commerce.emulator.data import StoreData
from metrics_connect.networks.woo_commerce.emulator.network import build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from metrics_connect.sync.records import sync_records
from metrics_connect.sync.service import load_integration
from tests.networks.connected import (
    ConnectedNetwork,
    connected_network,
    frozen_clock,
    module_settings,
)
from tests.networks.widgets import Periods

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PERIODS = Periods(date(2026, 11, 19))


@dataclass
class Connected(ConnectedNetwork):
    data: StoreData

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
    return module_settings(
        folder, template, **{"woo_commerce_api_base_url": "http://store.test", **overrides}
    )


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
    with frozen_clock(sandbox, NOW) as shared:
        async with connected_network(
            Connected,
            "woo_commerce",
            sandbox,
            shared,
            settings,
            PERIODS,
            credentials=credentials,
            upstream=store,
            routed=routed,
        ) as woo:
            yield woo


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
