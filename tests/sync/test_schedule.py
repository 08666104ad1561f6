"""The sync schedule as data: due rows are claimed with leases, run, and given their
next due time; a story about to expire is scheduled before it does; two schedulers
never hold one integration at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from metrics_connect import clock
from metrics_connect.db.engine import Database
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from metrics_connect.networks.instagram_business.sync.archive import CAPTURE_WINDOW
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from metrics_connect.sync import schedule
from metrics_connect.sync.models import SyncState
from metrics_connect.sync.runner import next_due, run_claim
from metrics_connect.sync.scheduler import SyncScheduler, syncing_networks
from metrics_connect.sync.service import SyncOutcome
from tests.sync.test_instagram_archive import archived_stories

from .conftest import NOW

SLUGS = ["instagram_business"]


async def _run_row(runtime: Runtime, integration_id: int) -> SyncState:
    async with runtime.db.session() as session:
        row = await session.scalar(
            select(SyncState).where(
                SyncState.integration_id == integration_id, SyncState.task == schedule.RUN_TASK
            )
        )
    assert row is not None
    return row


async def _one_round(runtime: Runtime) -> None:
    """One scheduler round, then wait for the runs it started."""
    scheduler = SyncScheduler(runtime)
    await scheduler.round()
    await asyncio.gather(*scheduler.running)


async def test_a_due_integration_runs_and_stores_its_next_due_time(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    integration = await connect_instagram(NOW - timedelta(hours=1))
    clock.set_clock(network.controls.clock.now)
    try:
        await _one_round(runtime)
        row = await _run_row(runtime, integration.id)
        assert row.runs == 1 and row.last_ok_at == NOW and row.lease_owner is None
        assert row.due_at is not None and NOW < row.due_at <= NOW + timedelta(hours=20)
        assert network.controls.calls.by_endpoint["stories"] == 1

        # Not due yet: a second round runs nothing.
        network.controls.calls.reset()
        await _one_round(runtime)
        assert (
            network.controls.calls.total == 0
            and (await _run_row(runtime, integration.id)).runs == 1
        )

        # Once due, it runs again.
        network.controls.clock.set(row.due_at)
        await _one_round(runtime)
        assert (await _run_row(runtime, integration.id)).runs == 2
    finally:
        clock.set_clock(None)


async def test_a_story_near_its_end_is_captured_before_it_expires(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    truth = network.sandbox
    story = truth.live_stories(NOW)[-1]  # the oldest live one
    expires = story.timestamp + timedelta(hours=24)
    # First run while the story's values still settle (before its capture window).
    first = expires - CAPTURE_WINDOW - timedelta(hours=1)
    network.controls.clock.set(first)
    integration = await connect_instagram(first - timedelta(hours=1))
    clock.set_clock(network.controls.clock.now)
    try:
        await _one_round(runtime)
        due = (await _run_row(runtime, integration.id)).due_at
        assert due is not None and first < due < expires

        network.controls.clock.set(due)
        await _one_round(runtime)
        day = truth.local_day(story.timestamp)
        stored = {s.id: s for s in await archived_stories(runtime, integration.id, day, day)}
        assert stored[story.id].values["reach"] == story.final["reach"]
        assert stored[story.id].values["views"] == story.final["views"]
    finally:
        clock.set_clock(None)


def test_next_due_waits_for_the_quota_and_after_a_failure(settings: Settings) -> None:
    soon = NOW + timedelta(minutes=1)
    assert next_due(SyncOutcome("i", ok=True, next_due=soon), NOW, settings) == soon
    near_quota = SyncOutcome("i", ok=True, next_due=soon, usage_percent=90.0)
    assert next_due(near_quota, NOW, settings) == NOW + timedelta(
        seconds=settings.sync_quota_pause_seconds
    )
    throttled = SyncOutcome("i", ok=False, error="upstream_rate_limited", retry_after=3600.0)
    assert next_due(throttled, NOW, settings) == NOW + timedelta(hours=1)
    failed = SyncOutcome("i", ok=False, error="upstream_error")
    assert next_due(failed, NOW, settings) == NOW + timedelta(seconds=settings.sync_retry_seconds)
    nothing = SyncOutcome("i", ok=True)
    assert next_due(nothing, NOW, settings) == NOW + timedelta(
        seconds=settings.sync_interval_seconds
    )


async def test_a_lost_lease_cannot_overwrite_the_new_holder(
    runtime: Runtime, connect_instagram: Callable[..., Any]
) -> None:
    integration = await connect_instagram(NOW - timedelta(hours=1))
    db = runtime.db
    await schedule.add_missing(db, syncing_networks(), NOW)
    [first] = await schedule.claim_due(db, SLUGS, NOW, 10, lease_seconds=60)
    assert first.integration_id == integration.id
    assert await schedule.claim_due(db, SLUGS, NOW, 10, lease_seconds=60) == []
    later = NOW + timedelta(seconds=61)  # the first holder stalled past its lease
    [second] = await schedule.claim_due(db, SLUGS, later, 10, lease_seconds=60)
    assert not await schedule.held(db, first.state_id, first.token, later)
    assert await run_claim(runtime, first) is None  # a late message of the first claim
    done = await schedule.finish(db, first, ran_at=later, next_due=later, error=None)
    assert not done
    assert await schedule.finish(db, second, ran_at=later, next_due=later, error=None)


# Concurrent claims across processes need PostgreSQL: only the PostgreSQL backend.
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_two_schedulers_never_claim_one_integration_at_once(
    db_url: str, runtime: Runtime, connect_instagram: Callable[..., Any]
) -> None:
    for _ in range(30):
        await connect_instagram(NOW - timedelta(hours=1))
    await schedule.add_missing(runtime.db, syncing_networks(), NOW)
    # Two schedulers as two processes would be: their own engines and connections.
    first, second = Database(db_url), Database(db_url)
    try:
        held: list[list[int]] = [[], []]
        for db in (first, second):  # connected before the race: a cold connect is no head start
            async with db.engine.connect():
                pass
        took_a_batch = [asyncio.Event(), asyncio.Event()]

        async def claim_all(me: int, db: Database) -> None:
            while claims := await schedule.claim_due(db, SLUGS, NOW, 3, lease_seconds=600):
                held[me].extend(c.integration_id for c in claims)
                took_a_batch[me].set()
                # Neither may drain the table before the other has claimed once (CI: one
                # scheduler took all ten batches while the other was still on its first).
                await asyncio.wait_for(took_a_batch[1 - me].wait(), timeout=30)

        await asyncio.gather(claim_all(0, first), claim_all(1, second))
    finally:
        await first.dispose()
        await second.dispose()
    assert not set(held[0]) & set(held[1])
    assert len(held[0]) + len(held[1]) == 30 == len(set(held[0]) | set(held[1]))
    assert held[0] and held[1]
