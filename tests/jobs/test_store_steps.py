"""The job row's state changes, one guarded statement each, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect import clock
from metrics_connect.accounts import service
from metrics_connect.accounts.models import Customer, CustomerIntegration, Merchant
from metrics_connect.jobs import store
from metrics_connect.jobs.models import Job, JobAttempt
from metrics_connect.jobs.schemas import request_fingerprint
from tests.jobs.conftest import OTHER_END, JobsService
from tests.jobs.test_embedded_recovery import accept_without_dispatch

LEASE = 30.0


async def stopped_service(make_service: Callable[..., Any], db_url: str) -> JobsService:
    """A service whose queue is stopped: only the test moves the job rows."""
    svc: JobsService = await make_service(database_url=db_url)
    await svc.stop()
    return svc


async def test_a_claim_brings_back_the_row_and_only_its_own_attempts(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    db = svc.runtime.db
    delivering = {"status": "delivering", "result_body": "{}"}
    tried = await accept_without_dispatch(svc, "http://127.0.0.1:9/a", **delivering)
    untried = await accept_without_dispatch(svc, "http://127.0.0.1:9/b", **delivering)
    queued = await accept_without_dispatch(svc, "http://127.0.0.1:9/c")
    async with db.session() as session:
        tried_id = await session.scalar(select(Job.id).where(Job.uuid == tried))
        for number in (1, 2):
            session.add(
                JobAttempt(job_id=tried_id, number=number, attempted_at=clock.now(), error="x")
            )
        await session.commit()

    claimed_untried = await store.claim(db, untried, "w1", LEASE)
    claimed_tried = await store.claim(db, tried, "w1", LEASE)
    claimed_queued = await store.claim(db, queued, "w1", LEASE)
    assert claimed_untried is not None and claimed_untried.attempt_count == 0
    assert claimed_tried is not None and claimed_tried.attempt_count == 2
    assert claimed_tried.webhook_url == "http://127.0.0.1:9/a"
    assert claimed_tried.result_body == "{}"
    assert claimed_queued is not None and claimed_queued.status == "running"
    assert claimed_queued.request_body["customer_integration"] == svc.integration_uuid
    # Held by a live lease: nobody else gets it.
    assert await store.claim(db, queued, "w2", LEASE) is None


async def test_the_result_and_the_attempt_start_are_one_update_guarded_by_the_lease(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    db = svc.runtime.db
    job_uuid = await accept_without_dispatch(svc, "http://127.0.0.1:9/hook")
    assert await store.claim(db, job_uuid, "w1", LEASE) is not None
    # The lease expired and another worker took the job over.
    async with db.session() as session:
        await session.execute(
            update(Job)
            .where(Job.uuid == job_uuid)
            .values(lease_expires_at=clock.now() - timedelta(seconds=1))
        )
        await session.commit()
    assert await store.claim(db, job_uuid, "w2", LEASE) is not None

    assert await store.start_delivery(db, job_uuid, "w1", '{"late": 1}') is None
    async with db.session() as session:
        job = await session.scalar(select(Job).where(Job.uuid == job_uuid))
        assert job is not None
        assert (job.status, job.result_body, job.delivery_started_at) == ("running", None, None)

    # The secret is read as the attempt starts: a rotation before it is honoured.
    async with db.session() as session:
        merchant = await session.get(Merchant, job.merchant_id)
        assert merchant is not None
        rotated = service.rotate_webhook_secret(svc.runtime.vault, merchant)
        await session.commit()
    secret = await store.start_delivery(db, job_uuid, "w2", '{"w": 1}')
    assert secret is not None and svc.runtime.vault.decrypt_text(secret) == rotated
    async with db.session() as session:
        job = await session.scalar(select(Job).where(Job.uuid == job_uuid))
        assert job is not None
        assert (job.status, job.result_body, job.lease_owner) == ("delivering", '{"w": 1}', "w2")
        assert job.computed_at is not None and job.delivery_started_at is not None


async def create_with_key(
    svc: JobsService, key: str, integration_id: int | None = None, **body_changes: Any
) -> tuple[Job, bool]:
    """A job of the integration's customer (the service's own unless named) with `key`."""
    async with svc.runtime.db.session() as session:
        integration = await session.get(CustomerIntegration, integration_id or svc.integration_id)
        assert integration is not None
        customer = await session.get(Customer, integration.customer_id)
        assert customer is not None
        body = svc.body(customer_integration=integration.uuid, **body_changes)
        return await store.create_or_reuse(
            session,
            store.NewJob(
                customer=customer,
                integration=integration,
                request_body=body,
                webhook_url="http://127.0.0.1:9/hook",
                idempotency_key=key,
                body_hash=request_fingerprint(customer.uuid, body),
            ),
        )


async def test_an_idempotency_key_race_answers_with_the_winners_job(
    db_url: str, make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = await stopped_service(make_service, db_url)
    winner, created = await create_with_key(svc, "report-1")
    assert created and winner.id and winner.status == "queued"

    # The other request inserted between our look-up and our insert.
    lookups: list[str] = []
    real_lookup = store._by_idempotency_key

    async def lookup(
        session: AsyncSession, merchant_id: int, customer_id: int, key: str
    ) -> Job | None:
        lookups.append(key)
        return (
            None if len(lookups) == 1 else await real_lookup(session, merchant_id, customer_id, key)
        )

    monkeypatch.setattr(store, "_by_idempotency_key", lookup)
    loser, created = await create_with_key(svc, "report-1")
    assert not created and loser.uuid == winner.uuid and len(lookups) == 2
    assert await svc.job_count() == 1


async def second_customer_integration(svc: JobsService) -> int:
    """Another customer of the service's merchant, with an integration of its own."""
    async with svc.runtime.db.session() as session:
        first = await session.get(CustomerIntegration, svc.integration_id)
        assert first is not None
        owner = await session.get(Customer, first.customer_id)
        assert owner is not None
        merchant = await session.get(Merchant, owner.merchant_id)
        assert merchant is not None
        other = await service.create_customer(
            session, svc.runtime.settings, merchant, "Second customer", is_paying=True
        )
        integration = await service.create_integration(
            session,
            svc.runtime.vault,
            other.record,
            slug=first.slug,
            source_name="@second",
            external_id="second-account",
            credentials={"access_token": "second"},
        )
        await session.commit()
        return integration.id


async def test_idempotency_keys_are_per_customer_of_a_merchant(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    other_integration = await second_customer_integration(svc)

    first, created = await create_with_key(svc, "report-1")
    assert created
    # Another customer of the same merchant: the key is free for it, whatever the body.
    other, created = await create_with_key(svc, "report-1", other_integration, end=OTHER_END)
    assert created and other.uuid != first.uuid
    again, created = await create_with_key(svc, "report-1", other_integration, end=OTHER_END)
    assert not created and again.uuid == other.uuid

    # One customer reusing its key: the same job for the same body, refused for another.
    replay, created = await create_with_key(svc, "report-1")
    assert not created and replay.uuid == first.uuid
    with pytest.raises(store.IdempotencyConflict):
        await create_with_key(svc, "report-1", end=OTHER_END)
    with pytest.raises(store.IdempotencyConflict):
        await create_with_key(svc, "report-1", other_integration)
    assert await svc.job_count() == 2
