"""The scheduled records sync of RD Station Marketing: it stores the leads base (contacts
and their tags), and the next run, after a contact left the base, marks it deleted (the
whole listing's `listed_all`) while the analytics datasets stay untouched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from metrics_connect import clock
from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.networks.rd_station.connector.hooks import RdStationConnector
from metrics_connect.networks.rd_station.emulator.leads import LeadBase
from metrics_connect.networks.rd_station.emulator.network import build_sandbox
from metrics_connect.settings import Settings
from metrics_connect.sync.service import load_integration, run_sync
from tests.conftest import connect_account
from tests.networks.connected import routed_runtime

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def test_the_sync_stores_the_base_then_drops_a_removed_contact(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    settings = settings_factory(sqlite_url, rd_station_api_base_url="http://rd.test")
    runtime = routed_runtime("rd_station", sandbox, settings)
    account = await connect_account(runtime, "rd_station", sandbox.demo_account)
    integration = await load_integration(runtime, account.integration_uuid)
    assert integration is not None
    base: LeadBase = sandbox.data.leads
    store = RecordStore(FactStore(runtime.db))
    specs = [s for s in RdStationConnector.datasets.values() if s.kind == "records"]
    try:
        clock.set_clock(lambda: NOW)
        assert (await run_sync(runtime, integration, NOW)).ok
        held = await store.load(integration.id, specs, "America/Sao_Paulo")
        now_live = [lead for lead in base.leads if lead.live(NOW)]
        assert {r.id for r in held["contacts"]} == {lead.uuid for lead in now_live}
        assert len(held["contact_tags"]) == sum(len(lead.tags) for lead in now_live)
        assert not sandbox.controls.calls.by_endpoint["GET /platform/analytics/funnels"]
        gone = next(lead for lead in now_live if lead.tags)
        later = NOW + timedelta(hours=7)
        object.__setattr__(gone, "removed_at", NOW + timedelta(hours=1))
        sandbox.controls.clock.set(later)
        clock.set_clock(lambda: later)
        assert (await run_sync(runtime, integration, later)).ok
        # A store of its own: the first one's memo holds the first sync's version.
        fresh = RecordStore(FactStore(runtime.db))
        held = await fresh.load(integration.id, specs, "America/Sao_Paulo")
    finally:
        clock.set_clock(None)
    assert gone.uuid not in {r.id for r in held["contacts"]}
    assert not any(r.id.startswith(gone.uuid) for r in held["contact_tags"])
    assert len(held["contacts"]) == len([x for x in base.leads if x.live(later)])
    await runtime.db.dispose()
