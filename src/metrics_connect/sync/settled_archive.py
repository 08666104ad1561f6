"""The sync of a network whose API forgets old days: every `every`, the last
`window_days` settled days go to the fact store in the variants (dataset, breakdowns)
the predefined widgets read, so that those widgets still answer once the days are older
than the API keeps. Its cursor is kept in sync_state (task "archive")."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome, get_state, save_state

TASK = "archive"

Variants = tuple[tuple[str, tuple[str, ...]], ...]


async def archive_settled_days(
    runtime: Runtime,
    integration: CustomerIntegration,
    connector: Connector,
    now: datetime,
    *,
    variants: Variants,
    timezone: str,
    settled_after_days: int,
    window_days: int = 30,
    every: timedelta = timedelta(days=7),
) -> SyncOutcome:
    """Archive the `window_days` days (in `timezone`) ending `settled_after_days` before
    `now`'s, unless the last run was less than `every` ago."""
    state = await get_state(runtime, integration.id, TASK)
    # A run at an earlier instant than the last one (the demo's replay of the past) runs.
    if state.cursor_at is not None and timedelta(0) <= now - state.cursor_at < every:
        return SyncOutcome(integration.uuid, ok=True, next_due=state.cursor_at + every)
    store = runtime.services.get("facts")
    facts = store if isinstance(store, FactStore) else FactStore(runtime.db)
    end = now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=settled_after_days)
    start = end - timedelta(days=window_days - 1)
    stored = 0
    for dataset, breakdowns in variants:
        request = FetchRequest(dataset, start, end, breakdowns=breakdowns)
        result = await connector.fetch(request)
        await facts.store(
            integration.id,
            connector.datasets[dataset],
            request,
            result,
            fetched_at=now,
            timezone=timezone,
            origin="sync",
        )
        stored += len(result.rows)
    state.last_run_at = state.last_ok_at = state.cursor_at = now
    await save_state(runtime, state)
    return SyncOutcome(integration.uuid, ok=True, stored=stored, next_due=now + every)
