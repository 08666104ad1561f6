"""The Pinterest sync: keep what the API only gives as "now" or forgets after 90 days.

Daily, the account's follower, pin and board counts (GET /v5/user_account) become that
UTC day's snapshot. Weekly, the last 10 settled days of the daily analytics go to the
fact store in the variants the predefined widgets read (the account's totals, by pin
format, by app type), so that those widgets still answer once the days are older than
the 90 the API serves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome, get_state, save_state

SNAPSHOT, DAILY = "profile_snapshot", "account_daily"
EVERY = timedelta(days=1)
ANALYTICS_EVERY = timedelta(days=7)
WINDOW_DAYS = 10  # a week and some overlap
SETTLED_AFTER_DAYS = 2
VARIANTS: tuple[tuple[str, ...], ...] = ((), ("pin_format",), ("app_type",))


async def sync_pinterest(
    runtime: Runtime, integration: CustomerIntegration, connector: Connector, now: datetime
) -> SyncOutcome:
    """The scheduler's entry point (network.yaml `sync`)."""
    store = runtime.services.get("facts")
    facts = store if isinstance(store, FactStore) else FactStore(runtime.db)
    today = now.astimezone(UTC).date()

    async def keep(request: FetchRequest) -> int:
        result = await connector.fetch(request)
        spec = connector.datasets[request.dataset]
        await facts.store(
            integration.id, spec, request, result, fetched_at=now, timezone="UTC", origin="sync"
        )
        return len(result.rows)

    stored = await keep(FetchRequest(SNAPSHOT, today, today))
    state = await get_state(runtime, integration.id, "analytics")
    # A run at an earlier instant than the last one (the demo's replay of the past) runs.
    if state.cursor_at is None or not timedelta(0) <= now - state.cursor_at < ANALYTICS_EVERY:
        end = today - timedelta(days=SETTLED_AFTER_DAYS)
        start = end - timedelta(days=WINDOW_DAYS - 1)
        for breakdowns in VARIANTS:
            stored += await keep(FetchRequest(DAILY, start, end, breakdowns=breakdowns))
        state.last_run_at = state.last_ok_at = state.cursor_at = now
        await save_state(runtime, state)
    return SyncOutcome(integration.uuid, ok=True, stored=stored, next_due=now + EVERY)
