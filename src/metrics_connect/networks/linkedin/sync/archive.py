"""The LinkedIn Pages sync: keep what the API forgets or only gives as "now".

Daily: the follower count (networkSizes) and current followers by facet as snapshots of
the day, and the last settled days of the time-bound statistics (follower gains, share
statistics, page views), which LinkedIn serves for the trailing 12 months only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome

SNAPSHOTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("network_size", ()),
    ("follower_demographics", ("region_name",)),
    ("follower_demographics", ("industry_name",)),
    ("follower_demographics", ("job_function",)),
)
DAILY = ("follower_gains", "share_stats", "page_views")
# Time-bound statistics settle within two days: archive the three days before that.
SETTLED_AFTER_DAYS, WINDOW_DAYS = 2, 3


async def sync_linkedin(
    runtime: Runtime, integration: CustomerIntegration, connector: Connector, now: datetime
) -> SyncOutcome:
    """The scheduler's entry point (network.yaml `sync`)."""
    store = runtime.services.get("facts")
    facts = store if isinstance(store, FactStore) else FactStore(runtime.db)
    today = now.date()  # UTC days
    end = today - timedelta(days=SETTLED_AFTER_DAYS)
    requests = [FetchRequest(d, today, today, breakdowns=b) for d, b in SNAPSHOTS]
    requests += [FetchRequest(d, end - timedelta(days=WINDOW_DAYS - 1), end) for d in DAILY]
    stored = 0
    for request in requests:
        result = await connector.fetch(request)
        await facts.store(
            integration.id,
            connector.datasets[request.dataset],
            request,
            result,
            fetched_at=now,
            timezone="UTC",
            origin="sync",
        )
        stored += len(result.rows)
    return SyncOutcome(integration_uuid=integration.uuid, ok=True, stored=stored)
