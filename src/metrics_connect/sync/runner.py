"""Running one claimed integration: its network's sync, then its next due time.

The next due time is what the run asked for (a story about to expire, the account's
next day), the usual interval if it named none, a retry after a failure, and never
sooner than the upstream allows: an account whose usage headers said it is near its
quota, or that the network throttled, waits. Runs of one network are bounded per
process (`sync_network_concurrency`) on top of the scheduler's own bound.

Each run logs `sync_run` with how late it started after its due time (the archive's
lag; bench/fleet.py reads these lines).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from metrics_connect import clock
from metrics_connect.logging_setup import get_logger
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from metrics_connect.sync import schedule
from metrics_connect.sync.schedule import Claim
from metrics_connect.sync.service import SyncOutcome, run_sync

log = get_logger("metrics_connect.sync")

SLOTS_KEY = "sync_network_slots"


def network_slots(runtime: Runtime, slug: str) -> asyncio.Semaphore:
    slots: dict[str, asyncio.Semaphore] = runtime.services.setdefault(SLOTS_KEY, {})
    slot = slots.get(slug)
    if slot is None:
        slot = slots[slug] = asyncio.Semaphore(max(1, runtime.settings.sync_network_concurrency))
    return slot


def next_due(outcome: SyncOutcome, ran_at: datetime, settings: Settings) -> datetime:
    if not outcome.ok:
        wait = max(settings.sync_retry_seconds, outcome.retry_after or 0.0)
        return ran_at + timedelta(seconds=wait)
    due = outcome.next_due or ran_at + timedelta(seconds=settings.sync_interval_seconds)
    if outcome.usage_percent is not None and outcome.usage_percent >= settings.sync_quota_percent:
        due = max(due, ran_at + timedelta(seconds=settings.sync_quota_pause_seconds))
    return max(due, ran_at)


async def run_claim(runtime: Runtime, claim: Claim) -> SyncOutcome | None:
    """Run the claimed integration's sync and store when it is due next. None: the
    claim was no longer held (its lease expired and another runner took it)."""
    integration = await schedule.held_integration(runtime.db, claim, clock.now())
    if integration is None:
        return None
    async with network_slots(runtime, claim.slug):
        started = clock.now()
        try:
            outcome = await run_sync(runtime, integration, started)
        except Exception:  # one broken integration must not stop the scheduler
            log.exception("sync_crashed", integration_uuid=integration.uuid)
            outcome = SyncOutcome(integration.uuid, ok=False, error="internal_error")
    due = next_due(outcome, started, runtime.settings)
    kept = await schedule.finish(
        runtime.db, claim, ran_at=started, next_due=due, error=outcome.error
    )
    log.info(
        "sync_run",
        integration_id=claim.integration_id,
        slug=claim.slug,
        due_at=claim.due_at.isoformat(),
        started_at=started.isoformat(),
        lag_seconds=round((started - claim.due_at).total_seconds(), 3),
        ok=outcome.ok,
        error=outcome.error,
        stored=outcome.stored,
        next_due=due.isoformat(),
        usage_percent=outcome.usage_percent,
        lease_kept=kept,
    )
    return outcome
