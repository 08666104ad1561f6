"""The records sync of HubSpot CRM: the demo's replay of the sandbox's clock fills every
dataset through the real sync, and the scheduled sync then follows the cursor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics_connect import clock
from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.networks.hubspot_crm.emulator.network import build_sandbox
from metrics_connect.settings import Settings
from metrics_connect.sync.records import replay_demo
from metrics_connect.sync.service import load_integration
from tests.conftest import connect_account
from tests.networks.connected import routed_runtime, scheduled_sync

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/Sao_Paulo")


async def test_the_demo_replay_fills_the_records_then_the_sync_follows(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    settings = settings_factory(sqlite_url, hubspot_crm_api_base_url="http://hubspot.test")
    runtime = routed_runtime("hubspot_crm", sandbox, settings)
    account = await connect_account(
        runtime, "hubspot_crm", sandbox.demo_account, connected_at=NOW - timedelta(days=7)
    )
    await replay_demo(runtime, account.integration_uuid, sandbox)
    store = RecordStore(FactStore(runtime.db))
    spec = sandbox.data
    integration = await load_integration(runtime, account.integration_uuid)
    assert integration is not None
    from metrics_connect.networks.hubspot_crm.connector.hooks import HubSpotCrmConnector

    specs = list(HubSpotCrmConnector.datasets.values())
    held = await store.load(integration.id, specs, "America/Sao_Paulo")
    for name in ("deals", "contacts", "tasks", "calls", "emails", "meetings", "goal_targets"):
        live = {r.id for r, _ in spec.live(name, NOW)}
        assert {r.id for r in held[name]} == live, name
    records_specs = [s for s in specs if s.kind == "records"]
    states = await store.state(integration.id, [s.name for s in records_specs])
    assert len(states) == 7 and all(s.synced_at == NOW for s in states.values())
    # Open deals per stage, snapshotted each replayed day: the archive answers a period
    # the network can no longer tell ("now" only), with the figure of its last day.
    facts = FactStore(runtime.db)
    variant = '{"b":["pipeline_label","stage","stage_label"]}'
    archived = await facts.load(
        integration.id,
        day_keys=[("open_deals", variant)],
        start=(NOW - timedelta(days=7)).date(),
        end=NOW.date(),
    )
    by_day: dict[object, dict[str, float]] = {}
    for row in archived.rows[("open_deals", variant)]:
        by_day.setdefault(row.day, {})[row.keys["stage"]] = row.values["open_deals"]  # type: ignore[assignment]
    assert len(by_day) >= 7
    for day, stages in by_day.items():
        at = max(
            s
            for s in [NOW - timedelta(days=7) + timedelta(days=i) for i in range(8)]
            if s.astimezone(ZONE).date() == day
        )
        open_now: dict[str, int] = {}
        for _, deal in spec.live("deals", at):
            if deal.get("hs_is_closed") != "true":
                stage = str(deal["dealstage"])
                open_now[stage] = open_now.get(stage, 0) + 1
        assert {k: v for k, v in stages.items() if v} == open_now, day
    # The scheduler's next run an hour later asks only what changed since.
    later = NOW + timedelta(hours=1)
    outcome = await scheduled_sync(runtime, integration, sandbox, later)
    assert outcome.ok
    searches = {
        k: v for k, v in sandbox.controls.calls.by_endpoint.items() if k.endswith("/search")
    }
    # One search per records dataset, and one per open stage for today's snapshot.
    assert len(searches) == 7
    stages = sum(1 for p in spec.pipelines for s in p["stages"] if not s.get("closed"))
    assert searches.pop("POST /crm/v3/objects/deals/search") == 1 + stages
    assert set(searches.values()) == {1}
    await runtime.db.dispose()


@pytest.fixture(autouse=True)
def _no_clock_leak() -> None:
    clock.set_clock(None)
