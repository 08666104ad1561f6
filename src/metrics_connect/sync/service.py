"""Running a network's sync for one integration.

Each network with something to archive names an `IntegrationSync` in its network.yaml.
`sync_integration` loads the integration, builds its connector and runs that network's
sync; an expired token or a withdrawn permission flips the integration's status, as a
widget request would. The scheduler (scheduler.py, runner.py) decides when.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from metrics_connect import clock
from metrics_connect.accounts.lifecycle import mark_unusable
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import (
    Connector,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
)
from metrics_connect.connectors.context import connector_for
from metrics_connect.networks.registry import network
from metrics_connect.runtime import Runtime
from metrics_connect.sync.models import SyncState
from metrics_connect.sync.progress import still_filling

log = logging.getLogger("metrics_connect.sync")

# How long a network whose archive is being replayed waits before it is synced.
REPLAY_WAIT = timedelta(minutes=1)


@dataclass
class SyncOutcome:
    """What one sync run did, and when it wants to run again (None: the usual interval)."""

    integration_uuid: str
    ok: bool
    stored: int = 0
    error: str | None = None
    next_due: datetime | None = None
    # The highest share of its upstream quota the account had used (usage headers),
    # and how long the network asked to wait after refusing (rate limited), if known.
    usage_percent: float | None = None
    retry_after: float | None = None


IntegrationSync = Callable[
    [Runtime, CustomerIntegration, Connector, datetime], Awaitable[SyncOutcome]
]


def network_sync(slug: str) -> IntegrationSync | None:
    """The network's archiving sync (its network.yaml `sync`), if it has one."""
    found = network(slug)
    if found is None or found.spec.sync is None:
        return None
    func: IntegrationSync = found.load(found.spec.sync)
    return func


async def load_integration(runtime: Runtime, integration_uuid: str) -> CustomerIntegration | None:
    async with runtime.db.session() as session:
        integration: CustomerIntegration | None = await session.scalar(
            select(CustomerIntegration).where(CustomerIntegration.uuid == integration_uuid)
        )
        return integration


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


_states = cast(Table, SyncState.__table__)
_STATE_FIELDS = ("last_run_at", "last_ok_at", "last_error", "cursor_at")


async def get_states(
    runtime: Runtime, integration_id: int, tasks: Sequence[str]
) -> dict[str, SyncState]:
    """The integration's states of these tasks in one select (new ones for those it has
    none of yet), detached: change them and `save_states` them."""
    async with runtime.db.single_statement_engine.connect() as conn:
        found = await conn.execute(
            select(_states.c.id, _states.c.task, *(_states.c[f] for f in _STATE_FIELDS)).where(
                _states.c.integration_id == integration_id, _states.c.task.in_(list(tasks))
            )
        )
        rows = {row.task: row for row in found}
    states: dict[str, SyncState] = {}
    for task in tasks:
        row = rows.get(task)
        state = SyncState(integration_id=integration_id, task=task)
        if row is not None:
            state.id = row.id
            for name in _STATE_FIELDS:
                setattr(state, name, getattr(row, name))
        states[task] = state
    return states


async def save_states(runtime: Runtime, states: Sequence[SyncState]) -> None:
    """Insert or update the (integration, task) rows of `states` in one statement."""
    if not states:
        return
    values = [
        {
            "integration_id": s.integration_id,
            "task": s.task,
            "runs": 0,
            **{name: getattr(s, name) for name in _STATE_FIELDS},
        }
        for s in states
    ]
    async with runtime.db.single_statement_engine.begin() as conn:
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(_states)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["integration_id", "task"],
                set_={name: statement.excluded[name] for name in _STATE_FIELDS},
            ),
            values,
        )


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
    if integration.slug in still_filling(runtime):
        # The demo is replaying this network's archive: both would move its sync cursor.
        return SyncOutcome(integration.uuid, ok=True, next_due=now + REPLAY_WAIT)
    connector = connector or connector_for(runtime, integration)
    try:
        return await func(runtime, integration, connector, now)
    except IntegrationExpired as exc:
        await mark_unusable(runtime, integration, "expired", exc.message)
        return SyncOutcome(integration.uuid, ok=False, error=exc.code)
    except IntegrationRevoked as exc:
        await mark_unusable(runtime, integration, "revoked", exc.message)
        return SyncOutcome(integration.uuid, ok=False, error=exc.code)
    except UpstreamRateLimited as exc:
        return SyncOutcome(
            integration.uuid,
            ok=False,
            error=exc.code,
            usage_percent=100.0,
            retry_after=exc.retry_after,
        )
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
    """Sync one integration now, outside the schedule."""
    integration = await load_integration(runtime, integration_uuid)
    if integration is None:
        return SyncOutcome(integration_uuid, ok=False, error="not_found")
    return await run_sync(runtime, integration, clock.now())
