"""The daily archive of what TikTok gives only as "now" (and daily for 60 days): the
account's followers, one snapshot per UTC day, so that older periods keep them."""

from __future__ import annotations

from datetime import UTC, datetime

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome

DATASET = "account_snapshot"


async def sync_tiktok(
    runtime: Runtime, integration: CustomerIntegration, connector: Connector, now: datetime
) -> SyncOutcome:
    today = now.astimezone(UTC).date()
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
