"""The step path's batches: many jobs' claims and writes in one statement, each job's
guarantees as when it runs alone (its lease, its own failure, nothing lost)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from bench.job_costs import Counts, counting
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from metrics_connect import clock
from metrics_connect.db.base import new_uuid
from metrics_connect.jobs import compute, store
from metrics_connect.jobs.batched_writes import BatchedWrites
from metrics_connect.jobs.coalesce import Coalescer
from metrics_connect.jobs.delivery import DeliveryOutcome
from metrics_connect.jobs.models import Job, JobAttempt, new_webhook_id
from tests.jobs.conftest import JobsService
from tests.jobs.receiver import Receiver
from tests.jobs.test_embedded_recovery import accept_without_dispatch
from tests.jobs.test_store_steps import LEASE, create_with_key, stopped_service


async def test_steps_arriving_together_share_one_batch_and_each_gets_its_answer() -> None:
    batches: list[list[int]] = []

    async def double(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        await asyncio.sleep(0)
        return [2 * item for item in items]

    coalescer: Coalescer[int, int] = Coalescer(double, max_batch=3)
    answers = await asyncio.gather(*(coalescer.submit(n) for n in range(5)))
    assert answers == [0, 2, 4, 6, 8]
    assert batches == [[0, 1, 2], [3, 4]]


async def test_one_failing_item_fails_only_its_own_step() -> None:
    async def refuse_seven(items: Sequence[int]) -> list[int]:
        if 7 in items:
            raise ValueError("seven")
        return list(items)

    coalescer: Coalescer[int, int] = Coalescer(refuse_seven, max_batch=10)
    answers = await asyncio.gather(
        *(coalescer.submit(n) for n in (5, 7, 9)), return_exceptions=True
    )
    assert answers[0] == 5 and answers[2] == 9
    assert isinstance(answers[1], ValueError)


async def _jobs(svc: JobsService, count: int) -> list[str]:
    return [await accept_without_dispatch(svc, f"http://127.0.0.1:9/{n}") for n in range(count)]


async def test_a_batch_claim_is_one_statement_and_skips_what_is_not_ours_to_run(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    db = svc.runtime.db
    free = await _jobs(svc, 3)
    held, finished = await _jobs(svc, 2)
    assert await store.claim(db, held, "w2", LEASE) is not None
    async with db.session() as session:
        await session.execute(update(Job).where(Job.uuid == finished).values(status="delivered"))
        await session.commit()

    counts = Counts()
    counts.phase = "claim"
    with counting(counts):
        claimed = await store.claim_many(db, [*free, held, finished, free[0]], "w1", LEASE)
    assert counts.by_phase["claim"]["statements"] == 1
    assert [job.uuid if job else None for job in claimed] == [*free, None, None, None]
    assert all(job is not None and job.status == "running" for job in claimed[:3])
    assert all(job is not None and job.integration is not None for job in claimed[:3])
    async with db.session() as session:
        owners = dict((await session.execute(select(Job.uuid, Job.lease_owner))).all())
    assert [owners[u] for u in free] == ["w1"] * 3 and owners[held] == "w2"


def _delivered() -> DeliveryOutcome:
    return DeliveryOutcome(clock.now(), 204, None, 1.0)


async def test_a_lost_lease_in_a_batch_of_records_loses_only_that_jobs_change(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    db = svc.runtime.db
    writes = BatchedWrites(db, "w1", LEASE)
    uuids = await _jobs(svc, 4)
    jobs = [await writes.claim(u) for u in uuids]
    assert all(job is not None for job in jobs)
    secrets = await asyncio.gather(*(writes.start_delivery(job, "{}") for job in jobs if job))
    assert all(secrets)
    # The third job's lease expired and another worker took it over.
    async with db.session() as session:
        await session.execute(
            update(Job)
            .where(Job.uuid == uuids[2])
            .values(lease_expires_at=clock.now() - timedelta(seconds=1))
        )
        await session.commit()
    assert await store.claim(db, uuids[2], "w2", LEASE) is not None

    statuses = await asyncio.gather(
        *(writes.record_attempt(job, 1, _delivered(), None) for job in jobs if job)
    )
    assert statuses == ["delivered", "delivered", None, "delivered"]
    async with db.session() as session:
        rows = dict((await session.execute(select(Job.uuid, Job.status))).all())
        attempts = (await session.execute(select(JobAttempt.job_id))).scalars().all()
    assert [rows[u] for u in uuids] == ["delivered", "delivered", "delivering", "delivered"]
    assert len(attempts) == 4  # the lost one's attempt happened: it is recorded too


async def test_a_batch_of_records_is_one_transaction(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    db = svc.runtime.db
    writes = BatchedWrites(db, "w1", LEASE)
    uuids = await _jobs(svc, 5)
    jobs = await asyncio.gather(*(writes.claim(u) for u in uuids))
    await asyncio.gather(*(writes.start_delivery(job, "{}") for job in jobs if job))
    counts = Counts()
    counts.phase = "record"
    with counting(counts):
        await asyncio.gather(
            *(writes.record_attempt(job, 1, _delivered(), None) for job in jobs if job)
        )
    # The attempts' INSERT and the jobs' UPDATE (an executemany).
    assert counts.by_phase["record"]["transactions"] == 1
    assert counts.by_phase["record"]["statements"] == 2


@pytest.mark.parametrize("stage", ["claimed", "started"])
async def test_a_crash_between_a_batch_claim_and_its_finish_loses_and_repeats_nothing(
    stage: str, make_service: Callable[..., Any], receiver: Receiver
) -> None:
    first: JobsService = await make_service()
    await first.stop()
    db = first.runtime.db
    uuids = [await accept_without_dispatch(first, receiver.url) for _ in range(4)]
    # A worker claimed the batch (and began its deliveries), then died: its leases stay.
    dead = BatchedWrites(db, "worker-that-was-killed", 0.5)
    jobs = await asyncio.gather(*(dead.claim(u) for u in uuids))
    if stage == "started":
        await asyncio.gather(*(dead.start_delivery(job, '{"w":1}') for job in jobs if job))

    second: JobsService = await make_service()
    for job_uuid in uuids:
        done = await second.wait_status(job_uuid)
        assert done["status"] == "delivered"
        if stage == "started":  # the cut-off attempt counts, then one that arrived
            assert [a["error"] is not None for a in done["attempts"]] == [True, False]
    assert len(receiver.received) == len(uuids)
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == len(uuids)


async def test_jobs_accepted_together_share_one_insert_and_a_key_clash_fails_only_its_own(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    db = svc.runtime.db
    existing, _ = await create_with_key(svc, "used")
    columns = [c.name for c in Job.__table__.c if c.name != "id"]
    template = {name: getattr(existing, name) for name in columns}

    def row(key: str | None) -> dict[str, Any]:
        return template | {
            "uuid": new_uuid(),
            "webhook_id": new_webhook_id(),
            "idempotency_key": key,
        }

    writes = BatchedWrites(db, "w1", LEASE)
    counts = Counts()
    counts.phase = "insert"
    with counting(counts):
        ids = await asyncio.gather(
            *(writes.insert_job(row(key)) for key in (None, "fresh", None)),
        )
    assert counts.by_phase["insert"]["statements"] == 1
    assert len(set(ids)) == 3

    answers = await asyncio.gather(
        *(writes.insert_job(row(key)) for key in (None, "used", "other")),
        return_exceptions=True,
    )
    assert isinstance(answers[1], IntegrityError)
    assert isinstance(answers[0], int) and isinstance(answers[2], int)
    async with db.session() as session:
        stored = (await session.execute(select(Job.id))).scalars().all()
    assert len(stored) == 1 + 3 + 2


async def test_jobs_asking_the_same_at_once_share_one_computation_begun_after_they_were_accepted(
    make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc: JobsService = await make_service()
    await svc.stop()
    db = svc.runtime.db
    started: list[str] = []
    release = asyncio.Event()

    async def slow_compute(_runtime: Any, job: Any) -> str:
        started.append(job.uuid)
        await release.wait()
        return f'{{"by":"{job.uuid}"}}'

    monkeypatch.setattr(compute, "compute_body", slow_compute)
    shared = compute.SharedComputes()
    writes = BatchedWrites(db, "w1", LEASE)
    early = await accept_without_dispatch(svc, "http://127.0.0.1:9/a")
    first = await writes.claim(early)
    assert first is not None
    running = asyncio.create_task(shared.compute_body(svc.runtime, first))
    await asyncio.sleep(0)
    # Accepted after that computation began: it computes its own.
    late = await writes.claim(await accept_without_dispatch(svc, "http://127.0.0.1:9/b"))
    assert late is not None
    own = asyncio.create_task(shared.compute_body(svc.runtime, late))
    await asyncio.sleep(0)
    # Accepted before the latest one began: it waits for that one.
    again = await writes.claim(await accept_without_dispatch(svc, "http://127.0.0.1:9/c"))
    assert again is not None
    again.created_at = first.created_at
    joined = asyncio.create_task(shared.compute_body(svc.runtime, again))
    await asyncio.sleep(0)
    release.set()
    bodies = await asyncio.gather(running, own, joined)
    assert started == [first.uuid, late.uuid]
    by_first, by_late = f'{{"by":"{first.uuid}"}}', f'{{"by":"{late.uuid}"}}'
    assert bodies == [by_first, by_late, by_late]
