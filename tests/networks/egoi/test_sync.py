"""The records sync of E-goi: the demo's replay of the sandbox's clock fills the
contacts, campaigns and automations through the real sync and archives the lists' sizes
each day, so that a past day's list size is answered from the archive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.networks.egoi.connector.hooks import EgoiConnector
from metrics_connect.networks.egoi.emulator.data import EgoiData
from metrics_connect.networks.egoi.emulator.network import build_sandbox
from metrics_connect.settings import Settings
from metrics_connect.sync.records import replay_demo
from metrics_connect.sync.service import load_integration
from tests.conftest import connect_account
from tests.networks.connected import routed_runtime

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def test_the_demo_replay_fills_the_records_and_archives_the_lists(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    sandbox = build_sandbox()
    data: EgoiData = sandbox.data
    sandbox.controls.clock.set(NOW)
    settings = settings_factory(sqlite_url, egoi_api_base_url="http://egoi.test")
    runtime = routed_runtime("egoi", sandbox, settings)
    start = NOW - timedelta(days=5)
    account = await connect_account(runtime, "egoi", sandbox.demo_account, connected_at=start)
    await replay_demo(runtime, account.integration_uuid, sandbox)
    integration = await load_integration(runtime, account.integration_uuid)
    assert integration is not None
    store = RecordStore(FactStore(runtime.db))
    held = await store.load(integration.id, list(EgoiConnector.datasets.values()), "Europe/Lisbon")
    assert {r.id for r in held["campaigns"]} == {c.hash for c in data.sent_by(NOW)}
    live = {f"{f['list_id']}:{r.id}" for r, f in data.state("contacts", NOW)}
    assert {r.id for r in held["contacts"]} == live
    variant = '{"b":["list_id","list_name"]}'
    archived = await FactStore(runtime.db).load(
        integration.id, day_keys=[("lists", variant)], start=start.date(), end=NOW.date()
    )
    rows = archived.rows[("lists", variant)]
    assert len({r.day for r in rows}) >= 5
    for row in rows:  # each day's size as the list stood when the sync ran that day
        assert row.values["total_active"] <= row.values["total_contacts"]
    last = [r for r in rows if r.day == NOW.date()]
    assert {r.keys["list_id"]: r.values["total_active"] for r in last} == {
        str(x["list_id"]): data.active(x["list_id"], NOW) for x in data.lists
    }
