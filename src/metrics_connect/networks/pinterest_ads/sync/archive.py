"""The Pinterest Ads sync: keep what the API forgets after 914 days.

Weekly, the last 30 settled UTC days of the account's delivery go to the fact store in
the variants the predefined widgets read (the account's totals; by campaign), so that
those widgets still answer once the days are older than Pinterest's reports reach. Ad
group, ad and keyword tables and reach (a period figure) are not archived
(docs/networks/pinterest_ads.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome, get_state, save_state

TASK = "archive"
EVERY = timedelta(days=7)
WINDOW_DAYS = 30
SETTLED_AFTER_DAYS = 3  # the datasets' settle_after_days
VARIANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("account_daily", ()),
    ("entity_daily", ("campaign_name",)),  # rows keyed by campaign_id too (key_field)
)


async def sync_pinterest_ads(
    runtime: Runtime, integration: CustomerIntegration, connector: Connector, now: datetime
) -> SyncOutcome:
    """The scheduler's entry point (network.yaml `sync`)."""
    state = await get_state(runtime, integration.id, TASK)
    if state.cursor_at is not None and timedelta(0) <= now - state.cursor_at < EVERY:
        return SyncOutcome(integration.uuid, ok=True, next_due=state.cursor_at + EVERY)
    store = runtime.services.get("facts")
    facts = store if isinstance(store, FactStore) else FactStore(runtime.db)
    end = now.astimezone(UTC).date() - timedelta(days=SETTLED_AFTER_DAYS)
    start = end - timedelta(days=WINDOW_DAYS - 1)
    stored = 0
    for dataset, breakdowns in VARIANTS:
        request = FetchRequest(dataset, start, end, breakdowns=breakdowns)
        result = await connector.fetch(request)
        spec = connector.datasets[dataset]
        await facts.store(
            integration.id, spec, request, result, fetched_at=now, timezone="UTC", origin="sync"
        )
        stored += len(result.rows)
    state.last_run_at = state.last_ok_at = state.cursor_at = now
    await save_state(runtime, state)
    return SyncOutcome(integration.uuid, ok=True, stored=stored, next_due=now + EVERY)
