"""Reads and writes of job rows: creation, idempotency, leases and state changes.

A worker owns a job only while it holds an unexpired lease on its row. Every state
change below is one UPDATE guarded by `lease_owner = owner`, so a worker that lost
its lease (it stalled past expiry and another took over) cannot overwrite the new
owner's work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    Text,
    Update,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import make_transient_to_detached, selectinload

from metrics_connect import clock
from metrics_connect.accounts.models import CustomerIntegration, Merchant
from metrics_connect.accounts.principals import CustomerLike
from metrics_connect.db.base import UTCDateTime, new_uuid
from metrics_connect.db.engine import Database
from metrics_connect.jobs.delivery import DeliveryOutcome
from metrics_connect.jobs.models import (
    DELIVERED,
    DELIVERING,
    FAILED,
    QUEUED,
    RUNNING,
    UNFINISHED_STATUSES,
    Job,
    JobAttempt,
    new_webhook_id,
)

SWEEP_BATCH = 500

_jobs = cast(Table, Job.__table__)
_attempts = cast(Table, JobAttempt.__table__)
_merchants = cast(Table, Merchant.__table__)
_integrations = cast(Table, CustomerIntegration.__table__)


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different body."""


@dataclass(frozen=True)
class NewJob:
    customer: CustomerLike
    integration: CustomerIntegration
    request_body: dict[str, Any]
    webhook_url: str
    idempotency_key: str | None
    body_hash: str


JobInserter = Callable[[dict[str, Any]], Awaitable[int]]


async def create_or_reuse(
    session: AsyncSession, new: NewJob, insert_job: JobInserter | None = None
) -> tuple[Job, bool]:
    """The job for this request and whether it was created now (False: an idempotent replay).

    `insert_job` stores the new row and gives its id (BatchedWrites.insert_job: the
    requests arriving together share one INSERT); by default, alone on the session.
    """
    # Read now: a rollback below expires an ORM customer's attributes.
    merchant_id, customer_id = new.customer.merchant_id, new.customer.id
    if new.idempotency_key is not None:
        existing = await _by_idempotency_key(session, merchant_id, customer_id, new.idempotency_key)
        if existing is not None:
            return _same_or_conflict(existing, new), False
    now = clock.now()
    values: dict[str, Any] = {
        "uuid": new_uuid(),
        "merchant_id": merchant_id,
        "customer_id": customer_id,
        "integration_id": new.integration.id,
        "request_body": new.request_body,
        "webhook_url": new.webhook_url,
        "idempotency_key": new.idempotency_key,
        "body_hash": new.body_hash,
        "status": QUEUED,
        "compute_failures": 0,
        "webhook_id": new_webhook_id(),
        "expected_pickup_at": now,
        "created_at": now,
        "updated_at": now,
    }
    try:
        if insert_job is None:
            job_id = await _insert_on_session(session, values)
        else:
            job_id = await insert_job(values)
    except IntegrityError:
        # Two requests with one key at once: the other one won; answer with its job.
        await session.rollback()
        if new.idempotency_key is None:
            raise
        existing = await _by_idempotency_key(session, merchant_id, customer_id, new.idempotency_key)
        if existing is None:
            raise
        return _same_or_conflict(existing, new), False
    return Job(id=job_id, **values), True


async def _insert_on_session(session: AsyncSession, values: dict[str, Any]) -> int:
    # A Core INSERT: the ORM unit of work around one new row costs more than the row.
    connection = await session.connection()
    result = await connection.execute(_INSERT_JOB, values)
    await session.commit()
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def insert_jobs(db: Database, rows: Sequence[dict[str, Any]]) -> list[int]:
    """New job rows in one INSERT (one statement, autocommit on PostgreSQL); their ids in
    the order given. A duplicate idempotency key fails the whole INSERT."""
    async with db.single_statement_engine.begin() as conn:
        result = await conn.execute(_INSERT_JOBS_RETURNING_ID, list(rows))
        ids = {job_uuid: int(job_id) for job_id, job_uuid in result}
    return [ids[row["uuid"]] for row in rows]


_INSERT_JOB = insert(_jobs)
# Matched by uuid: asking RETURNING for the rows' order makes SQLite's INSERT one per row.
_INSERT_JOBS_RETURNING_ID = insert(_jobs).returning(_jobs.c.id, _jobs.c.uuid)


def _same_or_conflict(existing: Job, new: NewJob) -> Job:
    if existing.body_hash != new.body_hash:
        raise IdempotencyConflict
    return existing


async def _by_idempotency_key(
    session: AsyncSession, merchant_id: int, customer_id: int, key: str
) -> Job | None:
    """The customer's job with this key: keys are scoped by merchant and customer."""
    job: Job | None = await session.scalar(
        select(Job).where(
            Job.merchant_id == merchant_id,
            Job.customer_id == customer_id,
            Job.idempotency_key == key,
        )
    )
    return job


async def customer_job(session: AsyncSession, customer: CustomerLike, job_uuid: str) -> Job | None:
    job: Job | None = await session.scalar(
        select(Job)
        .options(selectinload(Job.attempts))
        .where(Job.uuid == job_uuid, Job.customer_id == customer.id)
    )
    return job


# --- Leases ---------------------------------------------------------------------------
#
# The step path runs Core statements on a pooled connection (no ORM session, no
# load-then-modify): each is one guarded UPDATE, and what the step needs back comes
# from RETURNING rather than from a second read. A change that is one statement runs
# on `single_statement_engine` (autocommit on PostgreSQL: no COMMIT round trip);
# the two that write two rows (an attempt and the job) stay one transaction.


@dataclass
class ClaimedJob:
    """What a step needs of the job it claimed, as the claim left the row."""

    id: int
    uuid: str
    merchant_id: int
    integration_id: int | None
    request_body: dict[str, Any]
    webhook_url: str
    webhook_id: str
    status: str
    result_body: str | None
    compute_failures: int
    delivery_started_at: datetime | None
    created_at: datetime
    attempt_count: int
    # The job's integration as the claim found it (None: removed), for the compute.
    integration: CustomerIntegration | None = None


# The step path's statements are built once with bound parameters: SQLAlchemy then
# finds them in its compiled cache without rebuilding or re-keying them per call.
_UUID = bindparam("b_uuid", type_=String())
_OWNER = bindparam("b_owner", type_=String())
_NOW = bindparam("b_now", type_=UTCDateTime())
_UNTIL = bindparam("b_until", type_=UTCDateTime())


def _returned(column: str) -> ColumnElement[Any]:
    """A column of the updated job row, inside a subquery of RETURNING.

    SQLAlchemy renders RETURNING (subqueries included) without table names, so a
    correlated `job_id = id` would compare the subquery's own columns; the
    qualified name is what both SQLite and PostgreSQL resolve to the updated row.
    """
    return literal_column(f"{_jobs.name}.{column}")


def _lease_free(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    return or_(Job.lease_expires_at.is_(None), Job.lease_expires_at < now)


def _due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    return or_(Job.next_attempt_at.is_(None), Job.next_attempt_at <= now)


def _claim_statement(which: ColumnElement[bool]) -> Update:
    """The claim of the jobs `which` selects: unfinished, due, lease free."""
    return (
        update(_jobs)
        .where(
            which,
            _jobs.c.status.in_(UNFINISHED_STATUSES),
            _lease_free(_NOW),
            _due(_NOW),
        )
        .values(
            lease_owner=_OWNER,
            lease_expires_at=_UNTIL,
            heartbeat_at=_NOW,
            status=case((_jobs.c.status == QUEUED, RUNNING), else_=_jobs.c.status),
            started_at=func.coalesce(_jobs.c.started_at, _NOW),
        )
        .returning(
            _jobs.c.id,
            _jobs.c.uuid,
            _jobs.c.merchant_id,
            _jobs.c.integration_id,
            _jobs.c.request_body,
            _jobs.c.webhook_url,
            _jobs.c.webhook_id,
            _jobs.c.status,
            _jobs.c.result_body,
            _jobs.c.compute_failures,
            _jobs.c.delivery_started_at,
            _jobs.c.created_at,
            select(func.count())
            .select_from(_attempts)
            .where(_attempts.c.job_id == _returned("id"))
            .scalar_subquery(),
            # The integration's row, one column a subquery: RETURNING cannot join, and
            # reading it here spares the compute a statement (on SQLite, four calls to
            # the driver's thread and a rollback).
            *(
                select(column)
                .where(_integrations.c.id == _returned("integration_id"))
                .scalar_subquery()
                .label(f"integration_{column.name}")
                for column in _integrations.c
            ),
        )
    )


_CLAIM = _claim_statement(_jobs.c.uuid == _UUID)
# Many jobs at once. On PostgreSQL a row another worker is claiming right now is
# skipped rather than waited for (it is theirs): overlapping batches of two workers
# never wait on each other, so they cannot deadlock. SQLite has one writer anyway.
_CLAIM_MANY = _claim_statement(
    _jobs.c.id.in_(
        select(_jobs.c.id)
        .where(_jobs.c.uuid.in_(bindparam("b_uuids", expanding=True, type_=String())))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
)
# The ClaimedJob fields RETURNING gives in order, before the integration's columns.
_CLAIMED_FIELDS = len(fields(ClaimedJob)) - 1


def _detached_integration(values: Sequence[Any]) -> CustomerIntegration | None:
    """The integration's columns as a detached row, as a closed session would leave it
    (the ORM's session and identity map cost more than the read); None when removed."""
    columns = dict(zip((column.name for column in _integrations.c), values, strict=True))
    if columns["id"] is None:
        return None
    integration = CustomerIntegration(**columns)
    make_transient_to_detached(integration)
    return integration


@cache
def _owned_statement(columns: tuple[str, ...]) -> Update:
    """UPDATE of the job `b_uuid` held by `b_owner`, setting `columns` from `v_<column>`."""
    return (
        update(_jobs)
        .where(_jobs.c.uuid == _UUID, _jobs.c.lease_owner == _OWNER)
        .values({column: bindparam(f"v_{column}") for column in columns})
    )


async def _owned_update_on(
    conn: AsyncConnection, job_uuid: str, owner: str, values: dict[str, Any]
) -> bool:
    statement = _owned_statement(tuple(sorted(values)))
    params = {"b_uuid": job_uuid, "b_owner": owner}
    params.update({f"v_{column}": value for column, value in values.items()})
    result = await conn.execute(statement, params)
    return bool(result.rowcount == 1)


async def _owned_update(db: Database, job_uuid: str, owner: str, **values: Any) -> bool:
    async with db.single_statement_engine.begin() as conn:
        return await _owned_update_on(conn, job_uuid, owner, values)


def _claim_params(owner: str, lease_seconds: float) -> dict[str, Any]:
    now = clock.now()
    return {"b_owner": owner, "b_now": now, "b_until": now + timedelta(seconds=lease_seconds)}


def _claimed(row: Sequence[Any]) -> ClaimedJob:
    job = ClaimedJob(*row[:_CLAIMED_FIELDS])
    job.integration = _detached_integration(row[_CLAIMED_FIELDS:])
    return job


async def claim(db: Database, job_uuid: str, owner: str, lease_seconds: float) -> ClaimedJob | None:
    """Take the job if it is unfinished, due and not leased by a live worker.

    A queued job becomes running in the same statement: the one who claims it
    computes it. The row, its number of attempts and its integration as it is now come
    back from the UPDATE.
    """
    params = {"b_uuid": job_uuid, **_claim_params(owner, lease_seconds)}
    async with db.single_statement_engine.begin() as conn:
        row = (await conn.execute(_CLAIM, params)).one_or_none()
    return None if row is None else _claimed(row)


async def claim_many(
    db: Database, job_uuids: Sequence[str], owner: str, lease_seconds: float
) -> list[ClaimedJob | None]:
    """`claim` of each job, in one statement: the answers in the order asked (a job
    asked twice is claimed once, for its first asker)."""
    if len(job_uuids) == 1:
        return [await claim(db, job_uuids[0], owner, lease_seconds)]
    params = {"b_uuids": list(dict.fromkeys(job_uuids)), **_claim_params(owner, lease_seconds)}
    async with db.single_statement_engine.begin() as conn:
        rows = (await conn.execute(_CLAIM_MANY, params)).all()
    by_uuid = {job.uuid: job for job in map(_claimed, rows)}
    return [by_uuid.pop(job_uuid, None) for job_uuid in job_uuids]


async def extend_lease(db: Database, job_uuid: str, owner: str, lease_seconds: float) -> bool:
    now = clock.now()
    return await _owned_update(
        db,
        job_uuid,
        owner,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        heartbeat_at=now,
    )


async def lease_holder(db: Database, job_uuid: str) -> str | None:
    async with db.single_statement_engine.connect() as conn:
        holder: str | None = await conn.scalar(
            select(_jobs.c.lease_owner).where(_jobs.c.uuid == job_uuid)
        )
        return holder


async def release(db: Database, job_uuid: str, owner: str, **values: Any) -> bool:
    """Give the job back (optionally changing it) so the next message can claim it."""
    return await _owned_update(
        db, job_uuid, owner, lease_owner=None, lease_expires_at=None, **values
    )


async def release_all(db: Database, owner: str) -> int:
    """On a clean shutdown: every job this process holds can be resumed at once."""
    async with db.single_statement_engine.begin() as conn:
        result = await conn.execute(
            update(_jobs)
            .where(_jobs.c.lease_owner == owner, _jobs.c.status.in_(UNFINISHED_STATUSES))
            .values(lease_owner=None, lease_expires_at=None, expected_pickup_at=clock.now())
        )
        return int(result.rowcount)


# --- State changes ----------------------------------------------------------------------


@cache
def _start_statement(with_result: bool, returning_secret: bool = True) -> Update:
    """Mark the attempt begun (and store the result); with `returning_secret`, the
    merchant's encrypted secret comes back (not in an executemany of many jobs)."""
    values: dict[str, Any] = {"delivery_started_at": _NOW}
    if with_result:
        values.update(
            status=DELIVERING,
            result_body=bindparam("b_result", type_=Text()),
            computed_at=_NOW,
            next_attempt_at=None,
            error=None,
        )
    secret = (
        select(_merchants.c.webhook_secret_encrypted)
        .where(_merchants.c.id == _returned("merchant_id"))
        .scalar_subquery()
    )
    statement = (
        update(_jobs).where(_jobs.c.uuid == _UUID, _jobs.c.lease_owner == _OWNER).values(values)
    )
    return statement.returning(secret) if returning_secret else statement


async def start_delivery(
    db: Database, job_uuid: str, owner: str, result_body: str | None = None
) -> bytes | None:
    """Mark an HTTP attempt as in flight; with `result_body`, store the result too.

    Storing the computed result (running -> delivering) and marking the attempt
    begun are one UPDATE: a worker that dies after it leaves a job whose resumption
    records the attempt as interrupted and repeats it, as for a death mid-request.
    Returns the merchant's encrypted signing secret, read by the same statement (a
    rotation before it is honoured), or None when the lease was lost meanwhile.
    """
    params: dict[str, Any] = {"b_uuid": job_uuid, "b_owner": owner, "b_now": clock.now()}
    if result_body is not None:
        params["b_result"] = result_body
    statement = _start_statement(result_body is not None)
    async with db.single_statement_engine.begin() as conn:
        row = (await conn.execute(statement, params)).one_or_none()
    return None if row is None else bytes(row[0])


class BatchLeaseLost(Exception):
    """A batch statement changed fewer rows than it had jobs: some lease was lost, and
    which one only the jobs' own statements can tell (the batch is run job by job)."""


@dataclass(frozen=True)
class DeliveryStart:
    """`start_delivery`'s arguments, for `start_deliveries`."""

    job_uuid: str
    merchant_id: int
    owner: str
    result_body: str | None


_SECRETS = select(_merchants.c.id, _merchants.c.webhook_secret_encrypted).where(
    _merchants.c.id.in_(bindparam("b_merchants", expanding=True))
)


async def start_deliveries(db: Database, starts: Sequence[DeliveryStart]) -> list[bytes | None]:
    """`start_delivery` of each job, in one transaction; the secrets in the order asked.

    Raises BatchLeaseLost when a lease was lost (nothing is written then).
    """
    if len(starts) == 1:
        one = starts[0]
        return [await start_delivery(db, one.job_uuid, one.owner, one.result_body)]
    now = clock.now()
    async with db.engine.begin() as conn:
        for with_result in (True, False):
            params = [
                {"b_uuid": start.job_uuid, "b_owner": start.owner, "b_now": now}
                | ({"b_result": start.result_body} if with_result else {})
                for start in starts
                if (start.result_body is not None) == with_result
            ]
            if not params:
                continue
            statement = _start_statement(with_result, returning_secret=False)
            result = await conn.execute(statement, params)
            if result.rowcount != len(params):
                raise BatchLeaseLost  # rolls the transaction back
        # Read after the writes, as the one-job statement does: a rotation committed
        # before them is honoured.
        merchants = {start.merchant_id for start in starts}
        rows = await conn.execute(_SECRETS, {"b_merchants": list(merchants)})
        secrets: dict[int, bytes] = {row[0]: bytes(row[1]) for row in rows}
    return [secrets[start.merchant_id] for start in starts]


async def fail(db: Database, job_uuid: str, owner: str, code: str, message: str) -> bool:
    return await release(
        db,
        job_uuid,
        owner,
        status=FAILED,
        error={"code": code, "message": message},
        finished_at=clock.now(),
    )


async def retry_compute_later(
    db: Database, job: ClaimedJob, owner: str, delay_seconds: float, message: str
) -> bool:
    due = clock.now() + timedelta(seconds=delay_seconds)
    return await release(
        db,
        job.uuid,
        owner,
        status=QUEUED,
        compute_failures=job.compute_failures + 1,
        error={"code": "compute_error", "message": message},
        next_attempt_at=due,
        expected_pickup_at=due,
    )


_INSERT_ATTEMPT = insert(_attempts)


async def record_interrupted_attempt(db: Database, job: ClaimedJob, owner: str) -> None:
    """A previous worker died during an HTTP attempt: it counts, with what is known."""
    assert job.delivery_started_at is not None
    async with db.engine.begin() as conn:
        await conn.execute(
            _INSERT_ATTEMPT,
            {
                "job_id": job.id,
                "number": job.attempt_count + 1,
                "attempted_at": job.delivery_started_at,
                "http_status": None,
                "error": "interrupted: the worker stopped during this attempt",
                "latency_ms": None,
            },
        )
        await _owned_update_on(conn, job.uuid, owner, {"delivery_started_at": None})
    job.attempt_count += 1
    job.delivery_started_at = None


def _after_attempt(
    outcome: DeliveryOutcome, retry_in_seconds: float | None, now: datetime
) -> tuple[str, dict[str, Any]]:
    """The job's status after an attempt, and the values that set it (lease released)."""
    values: dict[str, Any] = {"delivery_started_at": None, "lease_owner": None}
    values["lease_expires_at"] = None
    if outcome.delivered:
        values.update(status=DELIVERED, finished_at=now, next_attempt_at=None)
        return DELIVERED, values
    if retry_in_seconds is None:
        values.update(status=FAILED, finished_at=now, next_attempt_at=None)
        return FAILED, values
    due = now + timedelta(seconds=retry_in_seconds)
    values.update(next_attempt_at=due, expected_pickup_at=due)
    return DELIVERING, values


def _attempt_row(job: ClaimedJob, number: int, outcome: DeliveryOutcome) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "number": number,
        "attempted_at": outcome.attempted_at,
        "http_status": outcome.http_status,
        "error": outcome.error,
        "latency_ms": outcome.latency_ms,
    }


async def record_attempt(
    db: Database,
    job: ClaimedJob,
    owner: str,
    number: int,
    outcome: DeliveryOutcome,
    retry_in_seconds: float | None,
) -> str | None:
    """Store the attempt and the job's next state in one transaction.

    Returns the new status, or None when the lease was lost meanwhile (the attempt is
    still recorded: it happened; the new owner decides what comes next).
    """
    status, values = _after_attempt(outcome, retry_in_seconds, clock.now())
    async with db.engine.begin() as conn:
        await conn.execute(_INSERT_ATTEMPT, _attempt_row(job, number, outcome))
        owned = await _owned_update_on(conn, job.uuid, owner, values)
    return status if owned else None


@dataclass(frozen=True)
class AttemptRecord:
    """`record_attempt`'s arguments, for `record_attempts`."""

    job: ClaimedJob
    owner: str
    number: int
    outcome: DeliveryOutcome
    retry_in_seconds: float | None


async def record_attempts(db: Database, records: Sequence[AttemptRecord]) -> list[str | None]:
    """`record_attempt` of each job, in one transaction: the attempts in one INSERT, the
    jobs' changes one executemany per kind of change. The statuses in the order asked.

    Raises BatchLeaseLost when a lease was lost (nothing is written then).
    """
    if len(records) == 1:
        one = records[0]
        status = await record_attempt(
            db, one.job, one.owner, one.number, one.outcome, one.retry_in_seconds
        )
        return [status]
    now = clock.now()
    statuses: list[str | None] = []
    changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for record in records:
        status, values = _after_attempt(record.outcome, record.retry_in_seconds, now)
        statuses.append(status)
        params = {"b_uuid": record.job.uuid, "b_owner": record.owner}
        params.update({f"v_{column}": value for column, value in values.items()})
        changes.setdefault(tuple(sorted(values)), []).append(params)
    async with db.engine.begin() as conn:
        await conn.execute(
            _INSERT_ATTEMPT, [_attempt_row(r.job, r.number, r.outcome) for r in records]
        )
        for columns, params_list in changes.items():
            result = await conn.execute(_owned_statement(columns), params_list)
            if result.rowcount != len(params_list):
                raise BatchLeaseLost  # rolls the transaction back
    return statuses


# --- Recovery ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A job to dispatch again: which step and in how many seconds."""

    uuid: str
    status: str
    delay_seconds: float


def _pending(
    job_uuid: str, status: str, next_attempt_at: datetime | None, now: datetime
) -> Pending:
    delay = (next_attempt_at - now).total_seconds() if next_attempt_at else 0.0
    return Pending(job_uuid, status, max(0.0, delay))


async def take_stalled(db: Database, requeue_after_seconds: float) -> list[Pending]:
    """Jobs whose worker died (lease expired) or whose message looks lost.

    Each one returned was marked as picked up again (lease cleared, new pickup
    time) by a guarded UPDATE, so two sweepers never both re-dispatch it.
    """
    now = clock.now()
    overdue = now - timedelta(seconds=requeue_after_seconds)
    expired_lease = and_(Job.lease_expires_at.is_not(None), Job.lease_expires_at < now)
    lost_message = and_(
        Job.lease_owner.is_(None),
        _due(now),
        or_(Job.expected_pickup_at.is_(None), Job.expected_pickup_at < overdue),
    )
    condition = and_(Job.status.in_(UNFINISHED_STATUSES), or_(expired_lease, lost_message))
    taken, _ = await _take(db, condition, now)
    return taken


async def take_unfinished(db: Database, after_id: int = 0) -> tuple[list[Pending], int]:
    """On start of the embedded queue: unfinished jobs no live worker holds, by id.

    Returns one batch and the last id seen, to continue from.
    """
    now = clock.now()
    condition = and_(Job.status.in_(UNFINISHED_STATUSES), _lease_free(now), Job.id > after_id)
    return await _take(db, condition, now)


async def _take(
    db: Database, condition: ColumnElement[bool], now: datetime
) -> tuple[list[Pending], int]:
    taken: list[Pending] = []
    last_id = 0
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Job.id, Job.uuid, Job.status, Job.next_attempt_at)
                .where(condition)
                .order_by(Job.id)
                .limit(SWEEP_BATCH)
            )
        ).all()
        for job_id, job_uuid, status, next_attempt_at in rows:
            last_id = job_id
            pickup = max(now, next_attempt_at) if next_attempt_at else now
            result = await session.execute(
                update(Job)
                .where(Job.id == job_id, condition)
                .values(lease_owner=None, lease_expires_at=None, expected_pickup_at=pickup)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                taken.append(_pending(job_uuid, status, next_attempt_at, now))
        await session.commit()
    return taken, last_id
