"""The Meta Ads sync: the ad account's snapshot (amount spent, balance, spend cap).

Meta serves these figures as they are now, never as they were: a balance widget over a
past period answers from the days this sync archived (the dataset's live window is one
day). Each run stores the account day's snapshot; the day's last run is its figure.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest
from metrics_connect.engine.facts import FactStore
from metrics_connect.networks.facebook_ads.connector.hooks import FacebookAdsConnector
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome

ACCOUNT_SNAPSHOT = FacebookAdsConnector.datasets["account_snapshot"]


def fact_store(runtime: Runtime) -> FactStore:
    store = runtime.services.get("facts")
    return store if isinstance(store, FactStore) else FactStore(runtime.db)


async def sync_facebook_ads(
    runtime: Runtime,
    integration: CustomerIntegration,
    connector: Connector,
    now: datetime,
) -> SyncOutcome:
    """The scheduler's entry point (named by this network's network.yaml `sync`)."""
    today = now.astimezone(ZoneInfo(integration.timezone or "UTC")).date()
    request = FetchRequest(ACCOUNT_SNAPSHOT.name, today, today)
    result = await connector.fetch(request)
    await fact_store(runtime).store(
        integration.id,
        ACCOUNT_SNAPSHOT,
        request,
        result,
        fetched_at=now,
        timezone=integration.timezone,
        origin="sync",
    )
    return SyncOutcome(integration.uuid, ok=True, stored=len(result.rows))
