"""What the job steps' state changes cost in round trips (counted at the drivers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.job_costs import Counts, counting
from sqlalchemy import select, update

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.jobs import store
from metrics_connect.jobs.models import Job
from tests.jobs.test_embedded_recovery import accept_without_dispatch
from tests.jobs.test_store_steps import LEASE, stopped_service


async def test_a_one_statement_change_is_committed_without_a_commit_round_trip(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    db = svc.runtime.db
    job_uuid = await accept_without_dispatch(svc, "http://127.0.0.1:9/a")
    counts = Counts()
    counts.phase = "claim"
    with counting(counts):
        claimed = await store.claim(db, job_uuid, "w1", LEASE)
        counts.phase = "extend"
        assert await store.extend_lease(db, job_uuid, "w1", LEASE)
    assert claimed is not None
    if not db.is_sqlite:
        # The pool's liveness ping and the UPDATE: no BEGIN, no COMMIT.
        assert counts.by_phase["claim"]["postgresql round trips"] == 2
        assert counts.by_phase["extend"]["postgresql round trips"] == 2
    # Committed all the same: another connection sees the lease.
    async with db.session() as session:
        owner = await session.scalar(select(Job.lease_owner).where(Job.uuid == job_uuid))
    assert owner == "w1"


async def test_a_lease_change_that_finds_no_row_leaves_nothing_open(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    db = svc.runtime.db
    job_uuid = await accept_without_dispatch(svc, "http://127.0.0.1:9/a")
    assert await store.claim(db, job_uuid, "w1", LEASE) is not None
    # Not the holder: nothing changes, and the holder's next change still goes through.
    assert not await store.extend_lease(db, job_uuid, "w2", LEASE)
    assert await store.start_delivery(db, job_uuid, "w2", "{}") is None
    assert await store.start_delivery(db, job_uuid, "w1", "{}") is not None
    assert await store.lease_holder(db, job_uuid) == "w1"


async def test_the_claim_brings_back_the_integration_as_it_is_now(
    db_url: str, make_service: Callable[..., Any]
) -> None:
    svc = await stopped_service(make_service, db_url)
    db = svc.runtime.db
    expired = await accept_without_dispatch(svc, "http://127.0.0.1:9/a")
    async with db.session() as session:
        await session.execute(
            update(CustomerIntegration)
            .where(CustomerIntegration.id == svc.integration_id)
            .values(status="expired")
        )
        await session.commit()
    claimed = await store.claim(db, expired, "w1", LEASE)
    assert claimed is not None and claimed.integration is not None
    assert claimed.integration.id == svc.integration_id
    assert claimed.integration.uuid == svc.integration_uuid
    assert claimed.integration.status == "expired"
    assert claimed.integration.credentials_encrypted  # every column, decodable
    assert claimed.integration.connected_at.tzinfo is not None

    removed = await accept_without_dispatch(svc, "http://127.0.0.1:9/b")
    async with db.session() as session:
        await session.execute(update(Job).where(Job.uuid == removed).values(integration_id=None))
        await session.commit()
    claimed_removed = await store.claim(db, removed, "w1", LEASE)
    assert claimed_removed is not None and claimed_removed.integration is None
