"""The sync of a network's "now" values (counts its API only tells as of today): each run
stores today's into the fact store, so a period's last day and a comparison period have
their own figures. Runs on the same day overwrite that day's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome


async def store_today(
    runtime: Runtime,
    integration: CustomerIntegration,
    connector: Connector,
    now: datetime,
    *,
    dataset: str,
    timezone: str | None = None,
    pin_clock: bool = False,
) -> SyncOutcome:
    """Fetch and store `dataset` for today, the day of `now` in `timezone` (None: the
    integration's). With `pin_clock`, a kit connector's own "today" is `now`'s too.
    Upstream failures propagate to the sync service, which marks expired or revoked
    integrations."""
    if pin_clock and isinstance(connector, KitConnector):
        # "Today" is the upstream's (the demo replays the sandbox's clock), not ours.
        connector.clock = lambda: now
    today = now.astimezone(ZoneInfo(timezone or integration.timezone)).date()
    request = FetchRequest(dataset, today, today)
    result = await connector.fetch(request)
    store = runtime.services.get("facts")
    facts = store if isinstance(store, FactStore) else FactStore(runtime.db)
    await facts.store(
        integration.id,
        connector.datasets[dataset],
        request,
        result,
        fetched_at=now,
        timezone=integration.timezone,
        origin="sync",
    )
    return SyncOutcome(integration_uuid=integration.uuid, ok=True, stored=len(result.rows))
