"""The records sync of Nuvemshop: the demo's replay of the sandbox's clock fills the
orders, line items and abandoned checkouts through the real sync and archives the valid
coupons day by day; the scheduled sync then asks only what changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from metrics_connect import clock
from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.networks.nuvem_shop.connector.hooks import NuvemShopConnector
from metrics_connect.networks.nuvem_shop.emulator.data import StoreData
from metrics_connect.networks.nuvem_shop.emulator.network import build_sandbox
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
    settings = settings_factory(sqlite_url, nuvem_shop_api_base_url="http://nuvemshop.test")
    runtime = routed_runtime("nuvem_shop", sandbox, settings)
    account = await connect_account(
        runtime, "nuvem_shop", sandbox.demo_account, connected_at=NOW - timedelta(days=7)
    )
    await replay_demo(runtime, account.integration_uuid, sandbox)
    data: StoreData = sandbox.data
    integration = await load_integration(runtime, account.integration_uuid)
    assert integration is not None
    specs = list(NuvemShopConnector.datasets.values())
    held = await RecordStore(FactStore(runtime.db)).load(integration.id, specs, "America/Sao_Paulo")
    states = {str(o.id): o.state(NOW) for o in data.orders_at(NOW)}
    orders = {r.id: r.fields for r in held["orders"]}
    assert set(orders) == set(states)
    assert all(orders[i]["payment_status"] == states[i]["payment_status"] for i in states)
    lines = sum(len(s["products"]) for s in states.values())
    assert len(held["order_products"]) == lines
    # Every checkout listed on a replayed day and not recovered since is kept.
    listed = {str(c.id) for c in data.checkouts_at(NOW)}
    assert listed <= {r.id for r in held["checkouts"]}
    # Valid coupons, archived once a replayed day.
    archived = await FactStore(runtime.db).load(
        integration.id,
        day_keys=[("valid_coupons", "-")],
        start=(NOW - timedelta(days=7)).date(),
        end=NOW.date(),
    )
    days = archived.rows.get(("valid_coupons", "-"), [])
    assert len(days) >= 7
    for row in days:
        assert row.day is not None
        dawn = datetime(row.day.year, row.day.month, row.day.day, 3, tzinfo=UTC)
        counts = {
            sum(1 for c in data.coupons_at(at) if c["valid"])
            for at in (dawn, dawn + timedelta(hours=23, minutes=59))
        }
        assert row.values["valid_coupons"] in counts and row.values["valid_coupons"] > 0
    # The scheduler's next run an hour later asks only what changed since.
    later = NOW + timedelta(hours=1)
    outcome = await scheduled_sync(runtime, integration, sandbox, later)
    assert outcome.ok
    calls = sandbox.controls.calls.by_endpoint
    # orders and line items: one page per payment pass each; checkouts; today's coupons.
    assert calls["GET /orders"] == 8 and calls["GET /checkouts"] == 1
    assert calls["GET /coupons"] == 1
    await runtime.db.dispose()


@pytest.fixture(autouse=True)
def _no_clock_leak() -> None:
    clock.set_clock(None)
