"""The daily archive of what YouTube only gives as "now": the channel's subscriber,
view and video counts (channels.list statistics), one snapshot per Pacific day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome

DATASET = "channel_snapshot"
TIMEZONE = "America/Los_Angeles"  # YouTube's days


async def sync_youtube(
    runtime: Runtime, integration: CustomerIntegration, connector: Connector, now: datetime
) -> SyncOutcome:
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
    return SyncOutcome(integration_uuid=integration.uuid, ok=True, stored=len(result.rows))
