"""The records sync of Hotmart: the demo's replay of the sandbox's clock fills the
purchases through the real sync (statuses as they stand at the end), and the scheduler's
next run re-reads only the revisit window, once per status."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from metrics_connect import clock
from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.networks.hotmart.connector.hooks import HotmartConnector
from metrics_connect.networks.hotmart.emulator.data import SalesData
from metrics_connect.networks.hotmart.emulator.network import build_sandbox
from metrics_connect.settings import Settings
from metrics_connect.sync.records import replay_demo
from metrics_connect.sync.service import load_integration
from tests.conftest import connect_account
from tests.networks.connected import routed_runtime, scheduled_sync

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HISTORY = "GET /payments/api/v1/sales/history"


async def test_the_demo_replay_fills_the_purchases_then_the_sync_follows(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    settings = settings_factory(sqlite_url, hotmart_api_base_url="http://hotmart.test")
    runtime = routed_runtime("hotmart", sandbox, settings)
    account = await connect_account(
        runtime, "hotmart", sandbox.demo_account, connected_at=NOW - timedelta(days=3)
    )
    started = time.monotonic()
    await replay_demo(runtime, account.integration_uuid, sandbox)
    assert time.monotonic() - started < 20  # the demo replays in the background, quickly
    integration = await load_integration(runtime, account.integration_uuid)
    assert integration is not None
    store = RecordStore(FactStore(runtime.db))
    specs = list(HotmartConnector.datasets.values())
    held = await store.load(integration.id, specs, "America/Sao_Paulo")
    data: SalesData = sandbox.data
    raw = {p["transaction"]: p for p in data.window(NOW - timedelta(days=740), NOW, NOW)}
    kept = {r.id: r for r in held["sales"]}
    assert set(kept) == set(raw)
    # Statuses as they stand at the replay's end (refunds made during the replay seen).
    assert {i: r.fields["status"] for i, r in kept.items()} == {
        i: p["status"] for i, p in raw.items()
    }
    later = NOW + timedelta(hours=1)
    outcome = await scheduled_sync(runtime, integration, sandbox, later)
    assert outcome.ok
    statuses = HotmartConnector.streams.extra["statuses"]
    assert len(statuses) <= sandbox.controls.calls.by_endpoint[HISTORY] <= len(statuses) + 3
    await runtime.db.dispose()


@pytest.fixture(autouse=True)
def _no_clock_leak() -> Iterator[None]:
    yield
    clock.set_clock(None)
