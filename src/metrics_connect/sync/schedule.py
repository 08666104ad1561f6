"""The sync schedule as data: one `sync_state` row of task "run" per integration whose
network has a sync, holding when its next run is due and who holds it.

A scheduler claims due rows in batches: one UPDATE sets a lease (a fresh token and an
expiry) on rows whose lease is free, picked by a subquery that on PostgreSQL takes
them FOR UPDATE SKIP LOCKED, so schedulers and workers claiming at once get disjoint
rows and never run one integration twice at once. SQLite serialises its writers (one
process runs the embedded scheduler). Whoever runs a claimed row stores its next due
time and frees it with an UPDATE guarded by the token: a runner whose lease expired
(and was taken over) cannot overwrite the new holder's schedule.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.db.engine import Database
from metrics_connect.sync.models import SyncState

RUN_TASK = "run"

_states = cast(Table, SyncState.__table__)
_integrations = cast(Table, CustomerIntegration.__table__)


@dataclass(frozen=True)
class Claim:
    """A due integration this scheduler holds until `lease_expires_at`."""

    state_id: int
    integration_id: int
    slug: str
    due_at: datetime
    token: str


def new_token() -> str:
    return secrets.token_hex(16)


def _active(slugs: list[str]) -> Any:
    return and_(_integrations.c.status == "active", _integrations.c.slug.in_(slugs))


async def add_missing(db: Database, slugs: list[str], now: datetime) -> int:
    """A "run" row, due now, for every active integration of these networks that has
    none yet (a new connection). Returns how many were added."""
    if not slugs:
        return 0
    missing = (
        select(_integrations.c.id, func.coalesce(_integrations.c.connected_at, now))
        .where(_active(slugs))
        .where(
            ~select(_states.c.id)
            .where(_states.c.integration_id == _integrations.c.id, _states.c.task == RUN_TASK)
            .exists()
        )
    )
    async with db.engine.begin() as conn:
        rows = (await conn.execute(missing)).all()
        if not rows:
            return 0
        values = [
            {"integration_id": i, "task": RUN_TASK, "due_at": min(now, due), "runs": 0}
            for i, due in rows
        ]
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(_states).on_conflict_do_nothing(
            index_elements=["integration_id", "task"]
        )
        await conn.execute(statement, values)
    return len(rows)


def _free(now: datetime) -> Any:
    return or_(_states.c.lease_expires_at.is_(None), _states.c.lease_expires_at < now)


async def claim_due(
    db: Database, slugs: list[str], now: datetime, limit: int, lease_seconds: float
) -> list[Claim]:
    """Lease up to `limit` due rows, earliest due first."""
    if limit <= 0 or not slugs:
        return []
    token = new_token()
    picked = _states.alias("picked")
    pick = (
        select(picked.c.id)
        .join(_integrations, _integrations.c.id == picked.c.integration_id)
        .where(
            picked.c.task == RUN_TASK,
            picked.c.due_at <= now,
            or_(picked.c.lease_expires_at.is_(None), picked.c.lease_expires_at < now),
            _active(slugs),
        )
        .order_by(picked.c.due_at)
        .limit(limit)
        .with_for_update(of=picked, skip_locked=True)
        .correlate(None)
        .scalar_subquery()
    )
    claim = (
        update(_states)
        .where(_states.c.id.in_(pick), _free(now))
        .values(lease_owner=token, lease_expires_at=now + timedelta(seconds=lease_seconds))
        .returning(_states.c.id, _states.c.integration_id, _states.c.due_at)
    )
    async with db.engine.begin() as conn:
        claimed = (await conn.execute(claim)).all()
        if not claimed:
            return []
        slugs_found = await conn.execute(
            select(_integrations.c.id, _integrations.c.slug).where(
                _integrations.c.id.in_([r.integration_id for r in claimed])
            )
        )
        slug_of: dict[int, str] = {int(i): str(slug) for i, slug in slugs_found.all()}
    out = [
        Claim(r.id, r.integration_id, slug_of[r.integration_id], r.due_at, token) for r in claimed
    ]
    return sorted(out, key=lambda c: c.due_at)


async def held(db: Database, state_id: int, token: str, now: datetime) -> bool:
    """Whether the claim is still this token's and unexpired (a queued message may
    arrive after its lease was taken over)."""
    async with db.single_statement_engine.connect() as conn:
        owner = (
            await conn.execute(
                select(_states.c.lease_owner).where(
                    _states.c.id == state_id, _states.c.lease_expires_at >= now
                )
            )
        ).scalar()
    return owner == token


async def held_integration(db: Database, claim: Claim, now: datetime) -> CustomerIntegration | None:
    """The claimed integration, if the claim is still this token's and unexpired: one
    select (a detached object built from its columns, not a session's)."""
    async with db.single_statement_engine.connect() as conn:
        row = (
            await conn.execute(
                select(*_integrations.c)
                .join(_states, _states.c.integration_id == _integrations.c.id)
                .where(
                    _states.c.id == claim.state_id,
                    _states.c.lease_owner == claim.token,
                    _states.c.lease_expires_at >= now,
                )
            )
        ).first()
    if row is None:
        return None
    return CustomerIntegration(**row._mapping)


async def outstanding(db: Database, now: datetime) -> int:
    """Rows leased and not expired: claims sent to workers and not finished yet."""
    async with db.single_statement_engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(_states)
            .where(_states.c.task == RUN_TASK, _states.c.lease_expires_at >= now)
        )
    return int(count or 0)


async def next_due_at(db: Database, slugs: list[str]) -> datetime | None:
    """The earliest due time of an active integration (the scheduler's next wake-up)."""
    if not slugs:
        return None
    async with db.single_statement_engine.connect() as conn:
        value: datetime | None = await conn.scalar(
            select(func.min(_states.c.due_at))
            .join(_integrations, _integrations.c.id == _states.c.integration_id)
            .where(_states.c.task == RUN_TASK, _active(slugs))
        )
    return value


async def finish(
    db: Database,
    claim: Claim,
    *,
    ran_at: datetime,
    next_due: datetime,
    error: str | None,
) -> bool:
    """Store the run and its next due time; free the row. False: the lease was lost."""
    values: dict[str, Any] = {
        "due_at": next_due,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_run_at": ran_at,
        "last_error": error,
        "runs": _states.c.runs + 1,
    }
    if error is None:
        values["last_ok_at"] = ran_at
    async with db.single_statement_engine.begin() as conn:
        result = await conn.execute(
            update(_states)
            .where(_states.c.id == claim.state_id, _states.c.lease_owner == claim.token)
            .values(**values)
        )
    return bool(result.rowcount)


async def release(db: Database, claims: list[Claim]) -> None:
    """Hand claims back unrun (a stopping scheduler), due as they were."""
    async with db.engine.begin() as conn:
        for claim in claims:
            await conn.execute(
                update(_states)
                .where(_states.c.id == claim.state_id, _states.c.lease_owner == claim.token)
                .values(lease_owner=None, lease_expires_at=None)
            )
