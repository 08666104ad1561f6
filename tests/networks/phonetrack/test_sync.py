"""The records sync of PhoneTrack: the demo's replay of the sandbox's clock fills the
calls through the real sync (the year before the connection, then the restated days at
each step: returns and classifications kept with their latest values, a call deleted
during the replay gone), and the scheduled sync an hour later lists one window again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.engine.tables import records as records_table
from metrics_connect.networks.phonetrack.connector.hooks import PhoneTrackConnector
from metrics_connect.networks.phonetrack.emulator.network import build_sandbox
from metrics_connect.settings import Settings
from metrics_connect.sync.records import replay_demo
from metrics_connect.sync.service import load_integration
from tests.conftest import connect_account
from tests.networks.connected import routed_runtime, scheduled_sync

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = "America/Sao_Paulo"


async def test_the_demo_replay_fills_the_calls_then_the_sync_lists_the_recent_days(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    settings = settings_factory(sqlite_url, phonetrack_api_base_url="http://phonetrack.test")
    runtime = routed_runtime("phonetrack", sandbox, settings)
    connected = NOW - timedelta(days=12)
    account = await connect_account(
        runtime, "phonetrack", sandbox.demo_account, connected_at=connected
    )
    data = sandbox.data
    # A call of the day before the connection, deleted a few days later (as a user would).
    doomed = next(
        r
        for r, _ in data.history(connected)
        if r.archived_at is None and connected - timedelta(days=1) <= data.starts[r.id]
    )
    doomed.archived_at = connected + timedelta(days=3)
    data.forget()
    try:
        await replay_demo(runtime, account.integration_uuid, sandbox)
    finally:
        doomed.archived_at = None
        data.forget()
    integration = await load_integration(runtime, account.integration_uuid)
    assert integration is not None
    store = RecordStore(FactStore(runtime.db))
    held = await store.load(integration.id, list(PhoneTrackConnector.datasets.values()), ZONE)
    oldest = connected - timedelta(days=364)
    doomed.archived_at = connected + timedelta(days=3)
    expected = {
        r.id: fields
        for r, fields in data.history(NOW)
        if not r.archived(NOW) and data.starts[r.id] >= oldest.replace(hour=3, minute=0)
    }
    doomed.archived_at = None
    stored = {r.id: r for r in held["calls"]}
    assert set(stored) == set(expected)
    # Latest values: every return and classification made by now is in the store.
    for call_id, fields in expected.items():
        record = stored[call_id].fields
        assert record["returned"] == bool(fields["returned"]), call_id
        assert record["opportunity"] == fields["call_metadata"]["plead"], call_id
    async with runtime.db.engine.connect() as conn:
        flag = await conn.scalar(
            select(records_table.c.deleted).where(
                records_table.c.dataset == "calls", records_table.c.record_id == doomed.id
            )
        )
    assert flag is True  # listed by the first replayed sync, then listed as deleted
    later = NOW + timedelta(hours=1)
    outcome = await scheduled_sync(runtime, integration, sandbox, later)
    assert outcome.ok
    # One window (the 7 restated days and today), at most 200 calls: one page.
    assert sandbox.controls.calls.by_endpoint == {"GET /api/v3/accounts/{id}/call-logs": 1}
    await runtime.db.dispose()
