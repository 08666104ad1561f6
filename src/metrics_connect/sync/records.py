"""The sync of a records network (docs/records.md): its network.yaml names

    sync: metrics_connect.sync.records:sync_records
    demo: metrics_connect.sync.records:replay_demo

Each run brings every records dataset of the connector up to date from its stored cursor
(a first run backfills), then snapshots what the network only gives as "now" (open
deals per stage, list sizes: the connector's `snapshot` datasets) into the fact store
as the day's value. The scheduler (sync/scheduler.py) runs it on the network's schedule;
the demo replays the sandbox's clock through it, so the archive of "now" values and the
records' edits arrive as they would have over the replayed history.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest, UpstreamError
from metrics_connect.connectors.context import connector_for
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore
from metrics_connect.networks.registry import days_timezone
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.sync.service import SyncOutcome, get_state, load_integration, save_state

log = logging.getLogger("metrics_connect.sync.records")

# The demo replays its history this many days a run: the records' edits and the daily
# "now" snapshots of the last REPLAY_DAILY_DAYS come day by day, older ones weekly.
REPLAY_DAILY_DAYS = 35
REPLAY_OLDER_STEP = timedelta(days=7)
SANDBOX_BASE_URL = "http://records.sandbox"


def _facts(runtime: Runtime) -> FactStore:
    shared = runtime.services.get("facts")
    store = shared if isinstance(shared, FactStore) else FactStore(runtime.db)
    runtime.services["facts"] = store
    return store


async def sync_records(
    runtime: Runtime, integration: CustomerIntegration, connector: Connector, now: datetime
) -> SyncOutcome:
    """The scheduler's entry point; upstream failures propagate to the sync service, which
    marks expired or revoked integrations and backs off on rate limits."""
    if isinstance(connector, KitConnector):
        # "Today" is the upstream's (the demo replays the sandbox's clock), not ours.
        connector.clock = lambda: now
    facts = _facts(runtime)
    store = RecordStore(facts)
    zone = days_timezone(integration.slug, integration.timezone)
    stored = 0
    for spec in connector.datasets.values():
        if spec.kind != "records":
            continue
        result = await store.sync(
            integration.id, connector, spec, timezone=zone, origin="sync", now=lambda: now
        )
        stored += result.upserted + result.deleted
    today = now.astimezone(ZoneInfo(zone)).date()
    for spec in connector.datasets.values():
        if spec.kind != "snapshot":
            continue
        # Every breakdown at once: the one variant the catalog's sources read.
        request = FetchRequest(spec.name, today, today, breakdowns=spec.breakdowns)
        snapshot = await connector.fetch(request)
        await facts.store(
            integration.id, spec, request, snapshot, fetched_at=now, timezone=zone, origin="sync"
        )
        stored += len(snapshot.rows)
    return SyncOutcome(integration.uuid, ok=True, stored=stored)


def _steps(start: datetime, end: datetime) -> list[datetime]:
    """The replay's instants: weekly up to REPLAY_DAILY_DAYS before the end, then daily."""
    daily_from = end - timedelta(days=REPLAY_DAILY_DAYS)
    steps: list[datetime] = []
    at = start
    while at < end:
        steps.append(at)
        at += REPLAY_OLDER_STEP if at < daily_from else timedelta(days=1)
    steps.append(end)
    return steps


async def replay_demo(runtime: Runtime, integration_uuid: str, sandbox: SandboxNetwork) -> None:
    """Fill the demo integration's records and snapshots by replaying the sandbox's clock
    through the real sync, from where the last replay stopped (sync_state "replay")."""
    integration = await load_integration(runtime, integration_uuid)
    if integration is None or integration.status != "active":
        return
    slug = integration.slug
    runtime.upstream_transports.setdefault(slug, httpx.ASGITransport(app=sandbox.app))
    sandbox_clock = sandbox.controls.clock
    saved = (sandbox_clock.frozen_at, sandbox_clock.offset)
    end = sandbox_clock.now()
    state = await get_state(runtime, integration.id, "replay")
    start = state.cursor_at + timedelta(days=1) if state.cursor_at else integration.connected_at
    if start > end:
        return
    done_at: datetime | None = None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url=SANDBOX_BASE_URL,
        timeout=runtime.settings.upstream_timeout_seconds,
    ) as http:
        connector = connector_for(runtime, integration)
        connector.ctx.http = http
        connector.ctx.base_url = SANDBOX_BASE_URL
        # The replay asks the in-process emulator, not the network: our side of the
        # network's quota (ActiveCampaign's 5 calls a second) would stretch the replay of
        # years of full listings into hours and hold every other archive behind it.
        client = getattr(connector, "client", None)
        if client is not None and getattr(client, "quota", None) is not None:
            client.quota = None
        try:
            for step in _steps(start, end):
                sandbox_clock.set(step)
                await sync_records(runtime, integration, connector, step)
                done_at = step
        except UpstreamError as exc:
            log.warning("records replay stopped", extra={"network": slug, "error": exc.code})
        finally:
            sandbox_clock.frozen_at, sandbox_clock.offset = saved
    if done_at is not None:
        state.cursor_at = done_at
        state.last_run_at = state.last_ok_at = done_at
        await save_state(runtime, state)
