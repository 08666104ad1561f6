"""The Page's follower and like counts (followers_count, fan_count) are "now" values of
the Page node: each run stores today's into the fact store, so a period's last day and a
comparison period have their own figures. Runs on the same day overwrite that day's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome

DATASET = "page_snapshot"
TIMEZONE = "America/Los_Angeles"  # the Page's insights days


async def sync_page(
    runtime: Runtime, integration: CustomerIntegration, connector: Connector, now: datetime
) -> SyncOutcome:
    """The scheduler's entry point (network.yaml `sync`); upstream failures propagate to
    the sync service, which marks expired or revoked integrations."""
    if isinstance(connector, KitConnector):
        # "Today" is the upstream's (the demo replays the sandbox's clock), not ours.
        connector.clock = lambda: now
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    request = FetchRequest(DATASET, today, today)
    result = await connector.fetch(request)
    store = runtime.services.get("facts")
    facts = store if isinstance(store, FactStore) else FactStore(runtime.db)
    await facts.store(
        integration.id,
        connector.datasets[DATASET],
        request,
        result,
        fetched_at=now,
        timezone=integration.timezone,
        origin="sync",
    )
    return SyncOutcome(integration.uuid, ok=True, stored=len(result.rows))
