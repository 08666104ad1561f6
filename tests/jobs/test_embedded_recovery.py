"""Embedded mode: the job rows are the truth; a restart or a dead holder loses nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from metrics_connect import clock
from metrics_connect.accounts.models import Customer, CustomerIntegration
from metrics_connect.db.engine import Database
from metrics_connect.jobs import store
from metrics_connect.jobs.models import Job
from metrics_connect.jobs.schemas import request_fingerprint
from tests.jobs.conftest import JobsService
from tests.jobs.receiver import Receiver


async def accept_without_dispatch(svc: JobsService, webhook_url: str, **row: Any) -> str:
    """What the endpoint stores for a job, as if its process died before running it."""
    db: Database = svc.runtime.db
    async with db.session() as session:
        integration = await session.get(CustomerIntegration, svc.integration_id)
        assert integration is not None
        customer = await session.get(Customer, integration.customer_id)
        assert customer is not None
        body = svc.body()
        job, created = await store.create_or_reuse(
            session,
            store.NewJob(
                customer=customer,
                integration=integration,
                request_body=body,
                webhook_url=webhook_url,
                idempotency_key=None,
                body_hash=request_fingerprint(customer.uuid, body),
            ),
        )
        assert created
        if row:
            await session.execute(update(Job).where(Job.id == job.id).values(**row))
            await session.commit()
        return job.uuid


async def test_a_restarted_service_resumes_a_queued_job(
    db_url: str, make_service: Callable[..., Any], receiver: Receiver
) -> None:
    # Sweeping is slowed right down: the resume must come from the start-up.
    slow_sweep = {"job_requeue_after_seconds": 600, "job_sweep_interval_seconds": 600}
    first: JobsService = await make_service(database_url=db_url, **slow_sweep)
    await first.stop()
    job_uuid = await accept_without_dispatch(first, receiver.url)

    second: JobsService = await make_service(database_url=db_url, **slow_sweep)
    done = await second.wait_status(job_uuid)
    assert done["status"] == "delivered"
    assert len(receiver.received) == 1


async def test_a_job_held_by_a_dead_worker_resumes_when_its_lease_expires(
    make_service: Callable[..., Any], receiver: Receiver
) -> None:
    first: JobsService = await make_service()
    await first.stop()
    lease_left = 1.0
    job_uuid = await accept_without_dispatch(
        first,
        receiver.url,
        status="running",
        lease_owner="worker-that-was-killed",
        lease_expires_at=clock.now() + timedelta(seconds=lease_left),
    )
    started = time.monotonic()
    second: JobsService = await make_service()
    done = await second.wait_status(job_uuid)
    assert done["status"] == "delivered"
    # Not taken while the lease was alive.
    assert receiver.received[0].at - started >= lease_left * 0.9


async def test_a_delivery_cut_off_by_a_crash_is_recorded_and_retried(
    make_service: Callable[..., Any], receiver: Receiver
) -> None:
    first: JobsService = await make_service()
    await first.stop()
    now = clock.now()
    job_uuid = await accept_without_dispatch(
        first,
        receiver.url,
        status="delivering",
        result_body='{"w":{"values":1}}',
        lease_owner="worker-that-was-killed",
        lease_expires_at=now - timedelta(seconds=1),
        delivery_started_at=now - timedelta(seconds=3),
    )
    second: JobsService = await make_service()
    done = await second.wait_status(job_uuid)
    assert done["status"] == "delivered"
    assert [a["error"] is not None for a in done["attempts"]] == [True, False]
    assert done["attempts"][0]["error"].startswith("interrupted")
    assert [r.body for r in receiver.received] == [b'{"w":{"values":1}}']


async def test_a_lost_queue_message_is_dispatched_again_by_the_sweeper(
    make_service: Callable[..., Any], receiver: Receiver
) -> None:
    svc: JobsService = await make_service(job_requeue_after_seconds=0.5)
    job_uuid = await accept_without_dispatch(svc, receiver.url)  # never dispatched
    done = await svc.wait_status(job_uuid)
    assert done["status"] == "delivered"
    assert len(receiver.received) == 1


async def test_an_integration_disconnected_before_the_job_ran_fails_it_without_a_webhook(
    make_service: Callable[..., Any], receiver: Receiver
) -> None:
    first: JobsService = await make_service()
    await first.stop()
    job_uuid = await accept_without_dispatch(first, receiver.url)
    async with first.runtime.db.session() as session:
        await session.execute(
            update(CustomerIntegration)
            .where(CustomerIntegration.id == first.integration_id)
            .values(status="expired")
        )
        await session.commit()

    second: JobsService = await make_service()
    done = await second.wait_status(job_uuid)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "integration_expired"
    assert done["attempts"] == [] and receiver.received == []
