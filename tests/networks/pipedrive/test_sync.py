"""The records sync of Pipedrive: the demo's replay of the sandbox's clock fills every
dataset through the real sync (deletions included), and the scheduled sync then asks
v2 only for what changed since its cursor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from metrics_connect import clock
from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.networks.pipedrive.connector.hooks import PipedriveConnector
from metrics_connect.networks.pipedrive.emulator.network import build_sandbox
from metrics_connect.settings import Settings
from metrics_connect.sync.records import replay_demo
from metrics_connect.sync.service import load_integration
from tests.conftest import connect_account
from tests.networks.connected import routed_runtime, scheduled_sync

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def test_the_demo_replay_fills_the_records_then_the_sync_follows(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    settings = settings_factory(sqlite_url, pipedrive_api_base_url="http://pipedrive.test")
    runtime = routed_runtime("pipedrive", sandbox, settings)
    account = await connect_account(
        runtime, "pipedrive", sandbox.demo_account, connected_at=NOW - timedelta(days=7)
    )
    await replay_demo(runtime, account.integration_uuid, sandbox)
    store = RecordStore(FactStore(runtime.db))
    data = sandbox.data
    integration = await load_integration(runtime, account.integration_uuid)
    assert integration is not None
    specs = list(PipedriveConnector.datasets.values())
    held = await store.load(integration.id, specs, "America/New_York")
    for name in ("deals", "leads", "activities", "mail_threads"):
        live = {r.id for r, _ in data.live(name, NOW)}
        assert {r.id for r in held[name]} == live, name
    later = NOW + timedelta(hours=1)
    outcome = await scheduled_sync(runtime, integration, sandbox, later)
    assert outcome.ok
    calls = sandbox.controls.calls.by_endpoint
    assert calls["GET /api/v2/deals"] == 1 and calls["GET /api/v2/activities"] == 1
    await runtime.db.dispose()


@pytest.fixture(autouse=True)
def _no_clock_leak() -> Iterator[None]:
    yield
    clock.set_clock(None)
