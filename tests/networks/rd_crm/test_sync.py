"""The records sync of RD Station CRM: the demo's replay of the sandbox's clock fills the
deals, their lines and the tasks through the real sync (full listings, deleted deals
gone), and the scheduled sync an hour later lists everything again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.engine.tables import records as records_table
from metrics_connect.networks.rd_crm.connector.hooks import RdCrmConnector
from metrics_connect.networks.rd_crm.emulator.network import build_sandbox
from metrics_connect.settings import Settings
from metrics_connect.sync.records import replay_demo
from metrics_connect.sync.service import load_integration
from tests.conftest import connect_account
from tests.networks.connected import routed_runtime, scheduled_sync

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def test_the_demo_replay_fills_the_records_then_the_sync_lists_again(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    settings = settings_factory(sqlite_url, rd_crm_api_base_url="http://rdcrm.test")
    runtime = routed_runtime("rd_crm", sandbox, settings)
    account = await connect_account(
        runtime, "rd_crm", sandbox.demo_account, connected_at=NOW - timedelta(days=12)
    )
    data = sandbox.data
    # A deal listed when the replay starts, deleted halfway (as a user would).
    doomed = next(r for r in data.records["deals"] if r.archived_at is None)
    doomed.archived_at = NOW - timedelta(days=10)
    data.forget()
    await replay_demo(runtime, account.integration_uuid, sandbox)
    integration = await load_integration(runtime, account.integration_uuid)
    assert integration is not None
    store = RecordStore(FactStore(runtime.db))
    specs = list(RdCrmConnector.datasets.values())
    held = await store.load(integration.id, specs, "America/Sao_Paulo")
    for name in ("deals", "tasks"):
        assert {r.id for r in held[name]} == {r.id for r, _ in data.live(name, NOW)}, name
    # The deal deleted during the replayed days is gone from the store too.
    assert doomed.id not in {r.id for r in held["deals"]}
    async with runtime.db.engine.connect() as conn:
        flag = await conn.scalar(
            select(records_table.c.deleted).where(
                records_table.c.dataset == "deals", records_table.c.record_id == doomed.id
            )
        )
    assert flag is True  # listed by the first replayed days, then marked deleted
    later = NOW + timedelta(hours=1)
    outcome = await scheduled_sync(runtime, integration, sandbox, later)
    assert outcome.ok
    calls = sandbox.controls.calls.by_endpoint
    deals_pages = -(-len(data.live("deals", later)) // 200)
    # Deals and their lines are two datasets of one listing: listed twice.
    assert calls["GET /api/v1/deals"] == 2 * deals_pages
    assert calls["GET /api/v1/tasks"] == -(-len(data.live("tasks", later)) // 200)
    await runtime.db.dispose()
