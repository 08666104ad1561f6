"""The Search Console sync: keep what the API forgets after 16 months.

Weekly, the last 30 settled days of the daily dataset go to the fact store, in the
variants the predefined widgets read (the property's totals, by country, by device), so
that those widgets still answer once the days are older than the API keeps. Tables by
query or page are period figures and are not archived (docs/networks/search_console.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome, get_state, save_state

TASK = "archive"
EVERY = timedelta(days=7)
WINDOW_DAYS = 30
# Days are archived once settled (the dataset's settle_after_days).
SETTLED_AFTER_DAYS = 4
PACIFIC = ZoneInfo("America/Los_Angeles")
DATASET = "performance"
VARIANTS: tuple[tuple[str, ...], ...] = ((), ("country",), ("device",))


async def sync_search_console(
    runtime: Runtime,
    integration: CustomerIntegration,
    connector: Connector,
    now: datetime,
) -> SyncOutcome:
    """The scheduler's entry point (network.yaml `sync`)."""
    state = await get_state(runtime, integration.id, TASK)
    # A run at an earlier instant than the last one (the demo's replay of the past) runs.
    if state.cursor_at is not None and timedelta(0) <= now - state.cursor_at < EVERY:
        return SyncOutcome(integration.uuid, ok=True, next_due=state.cursor_at + EVERY)
    store = runtime.services.get("facts")
    facts = store if isinstance(store, FactStore) else FactStore(runtime.db)
    end = now.astimezone(PACIFIC).date() - timedelta(days=SETTLED_AFTER_DAYS)
    start = end - timedelta(days=WINDOW_DAYS - 1)
    stored = 0
    for breakdowns in VARIANTS:
        request = FetchRequest(DATASET, start, end, breakdowns=breakdowns)
        result = await connector.fetch(request)
        await facts.store(
            integration.id,
            connector.datasets[DATASET],
            request,
            result,
            fetched_at=now,
            timezone=PACIFIC.key,
            origin="sync",
        )
        stored += len(result.rows)
    state.last_run_at = state.last_ok_at = state.cursor_at = now
    await save_state(runtime, state)
    return SyncOutcome(integration.uuid, ok=True, stored=stored, next_due=now + EVERY)
