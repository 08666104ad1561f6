"""Running a network's sync for one integration, or for all active ones.

Each network with something to archive registers an `IntegrationSync` in `NETWORK_SYNCS`.
`sync_integration` loads the integration, builds its connector and runs that network's
sync; an expired token or a withdrawn permission flips the integration's status, as a
widget request would. The embedded scheduler (scheduler.py) and the worker call these.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any

from sqlalchemy import select

from metrics_connect import clock
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import (
    Connector,
    ConnectorContext,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
)
from metrics_connect.connectors.registry import connector_class
from metrics_connect.runtime import Runtime
from metrics_connect.sync.models import SyncState

log = logging.getLogger("metrics_connect.sync")


@dataclass
class SyncOutcome:
    """What one sync run did, and when it wants to run again (None: the usual interval)."""

    integration_uuid: str
    ok: bool
    stored: int = 0
    error: str | None = None
    next_due: datetime | None = None


# slug -> "module:function"; function(runtime, integration, connector, now) -> SyncOutcome.
NETWORK_SYNCS: dict[str, str] = {
    "instagram_business": "metrics_connect.sync.instagram_business.archive:sync_instagram",
    "facebook_ads": "metrics_connect.sync.facebook_ads.archive:sync_facebook_ads",
}

IntegrationSync = Callable[
    [Runtime, CustomerIntegration, Connector, datetime], Awaitable[SyncOutcome]
]


def network_sync(slug: str) -> IntegrationSync | None:
    target = NETWORK_SYNCS.get(slug)
    if target is None:
        return None
    module_name, _, func_name = target.partition(":")
    func: IntegrationSync = getattr(import_module(module_name), func_name)
    return func


def connector_for(runtime: Runtime, integration: CustomerIntegration, **kwargs: Any) -> Connector:
    """The integration's connector, on the runtime's pooled HTTP client of its network."""
    ctx = ConnectorContext(
        integration_uuid=integration.uuid,
        external_id=integration.external_id,
        credentials=runtime.vault.decrypt_json(integration.credentials_encrypted),
        timezone=integration.timezone,
        http=runtime.http_client(integration.slug),
        base_url=runtime.upstream_base_url(integration.slug),
        settings=runtime.settings,
    )
    cls = connector_class(integration.slug)
    return cls(ctx, **kwargs)


async def load_integration(runtime: Runtime, integration_uuid: str) -> CustomerIntegration | None:
    async with runtime.db.session() as session:
        integration: CustomerIntegration | None = await session.scalar(
            select(CustomerIntegration).where(CustomerIntegration.uuid == integration_uuid)
        )
        return integration


async def mark_status(runtime: Runtime, integration_id: int, status: str, reason: str) -> None:
    async with runtime.db.session() as session:
        integration = await session.get(CustomerIntegration, integration_id)
        if integration is not None and integration.status == "active":
            integration.status = status
            integration.status_reason = reason
            await session.commit()
    runtime.auth_cache.forget_integration(integration_id)


async def get_state(runtime: Runtime, integration_id: int, task: str) -> SyncState:
    async with runtime.db.session() as session:
        state: SyncState | None = await session.scalar(
            select(SyncState).where(
                SyncState.integration_id == integration_id, SyncState.task == task
            )
        )
        if state is None:
            state = SyncState(integration_id=integration_id, task=task)
        return state


async def save_state(runtime: Runtime, state: SyncState) -> None:
    """Insert or update the (integration, task) row; `state` gets its id."""
    async with runtime.db.session() as session:
        stored: SyncState | None = await session.scalar(
            select(SyncState).where(
                SyncState.integration_id == state.integration_id, SyncState.task == state.task
            )
        )
        if stored is None:
            stored = SyncState(integration_id=state.integration_id, task=state.task)
            session.add(stored)
        stored.last_run_at = state.last_run_at
        stored.last_ok_at = state.last_ok_at
        stored.last_error = state.last_error
        stored.cursor_at = state.cursor_at
        await session.commit()
        state.id = stored.id


async def run_sync(
    runtime: Runtime,
    integration: CustomerIntegration,
    now: datetime,
    *,
    connector: Connector | None = None,
) -> SyncOutcome:
    """One run of the integration's network sync at `now` (the upstream's clock)."""
    func = network_sync(integration.slug)
    if func is None or integration.status != "active":
        return SyncOutcome(integration.uuid, ok=True)
    connector = connector or connector_for(runtime, integration)
    try:
        return await func(runtime, integration, connector, now)
    except IntegrationExpired as exc:
        await mark_status(runtime, integration.id, "expired", exc.message)
        return SyncOutcome(integration.uuid, ok=False, error=exc.code)
    except IntegrationRevoked as exc:
        await mark_status(runtime, integration.id, "revoked", exc.message)
        return SyncOutcome(integration.uuid, ok=False, error=exc.code)
    except UpstreamError as exc:
        log.warning(
            "sync failed",
            extra={
                "integration_uuid": integration.uuid,
                "error_code": exc.code,
                "upstream_code": exc.upstream_code,
                "upstream_message": exc.message,
            },
        )
        return SyncOutcome(integration.uuid, ok=False, error=exc.code)


async def sync_integration(runtime: Runtime, integration_uuid: str) -> SyncOutcome:
    """Sync one integration now (the worker's and the scheduler's unit of work)."""
    integration = await load_integration(runtime, integration_uuid)
    if integration is None:
        return SyncOutcome(integration_uuid, ok=False, error="not_found")
    return await run_sync(runtime, integration, clock.now())


async def sync_all(runtime: Runtime) -> list[SyncOutcome]:
    """Sync every active integration of a network that has something to archive."""
    async with runtime.db.session() as session:
        uuids = list(
            await session.scalars(
                select(CustomerIntegration.uuid).where(
                    CustomerIntegration.status == "active",
                    CustomerIntegration.slug.in_(list(NETWORK_SYNCS)),
                )
            )
        )
    outcomes = []
    for uuid in uuids:
        try:
            outcomes.append(await sync_integration(runtime, uuid))
        except Exception:  # one broken integration must not stop the others
            log.exception("sync crashed", extra={"integration_uuid": uuid})
            outcomes.append(SyncOutcome(uuid, ok=False, error="internal_error"))
    return outcomes
