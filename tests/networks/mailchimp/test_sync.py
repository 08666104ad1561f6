"""The records sync of Mailchimp: the demo's replay of the sandbox's clock fills the
campaigns and opens through the real sync and archives the audiences' stats each day;
the scheduled sync then lists only the recently sent campaigns again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.networks.mailchimp.connector.hooks import MailchimpConnector
from metrics_connect.networks.mailchimp.emulator.data import MailchimpData
from metrics_connect.networks.mailchimp.emulator.network import build_sandbox
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
    data: MailchimpData = sandbox.data
    sandbox.controls.clock.set(NOW)
    settings = settings_factory(sqlite_url, mailchimp_api_base_url="http://mailchimp.test")
    runtime = routed_runtime("mailchimp", sandbox, settings)
    start = NOW - timedelta(days=5)
    account = await connect_account(runtime, "mailchimp", sandbox.demo_account, connected_at=start)
    await replay_demo(runtime, account.integration_uuid, sandbox)
    integration = await load_integration(runtime, account.integration_uuid)
    assert integration is not None
    store = RecordStore(FactStore(runtime.db))
    specs = list(MailchimpConnector.datasets.values())
    held = await store.load(integration.id, specs, "America/Sao_Paulo")
    assert {r.id for r in held["campaigns"]} == {c.id for c in data.sent(NOW)}
    opens = sum(1 for c in data.sent(NOW) for e in data.until(c, NOW) if e[1] == "open")
    assert len(held["opens"]) == opens
    # The audiences' stats, archived for each replayed day.
    variant = '{"b":["list_id","list_name"]}'
    archived = await FactStore(runtime.db).load(
        integration.id, day_keys=[("lists", variant)], start=start.date(), end=NOW.date()
    )
    rows = archived.rows[("lists", variant)]
    assert len({r.day for r in rows}) >= 5
    last = [r for r in rows if r.day == NOW.astimezone(ZONE).date()]
    assert {r.keys["list_id"]: r.values["member_count"] for r in last} == {
        lst["id"]: data.members(lst, NOW) for lst in data.lists
    }
    # An hour later the scheduler lists again only the campaigns of the last 30 days.
    later = NOW + timedelta(hours=1)
    outcome = await scheduled_sync(runtime, integration, sandbox, later)
    assert outcome.ok
    recent = [c for c in data.sent(later) if c.send_time >= NOW - timedelta(days=31)]
    calls = sandbox.controls.calls.by_endpoint
    assert calls["open-details"] <= len(recent) < len(data.sent(later))
