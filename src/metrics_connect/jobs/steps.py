"""The two job steps, run by the Dramatiq actors (or in-process): compute, then deliver.

Each step first claims the job row with a lease (a step whose job is finished,
not yet due or held by a live worker does nothing), keeps the lease alive while
it works, and leaves the row in its next state. Whatever dies halfway, the row
says where to resume, and the sweeper re-dispatches it once the lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from metrics_connect import clock
from metrics_connect.background import stop_requested
from metrics_connect.jobs import store
from metrics_connect.jobs.compute import PermanentFailure
from metrics_connect.jobs.context import JobsContext
from metrics_connect.jobs.delivery import deliver
from metrics_connect.jobs.models import DELIVERING, QUEUED, RUNNING
from metrics_connect.jobs.schedule import retry_delay
from metrics_connect.jobs.signing import signed_headers
from metrics_connect.jobs.store import ClaimedJob
from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.jobs")

# Unexpected errors while computing (a database hiccup, a bug) are retried this many
# times on the webhook schedule before the job is failed.
MAX_COMPUTE_FAILURES = 3


@contextlib.asynccontextmanager
async def claimed(ctx: JobsContext, job_uuid: str) -> AsyncIterator[ClaimedJob | None]:
    """Claim the job (None: not ours to run now) and renew the lease until the step ends.

    Renewal runs every third of the lease from the moment of the claim; it is asked
    to stop rather than cancelled, so it never abandons a query halfway.
    """
    job = await ctx.writes.claim(job_uuid)
    if job is None:
        yield None
        return
    stop = asyncio.Event()

    async def renew() -> None:
        interval = max(ctx.lease_seconds / 3, 0.05)
        while not await stop_requested(stop, interval):
            if not await store.extend_lease(ctx.runtime.db, job_uuid, ctx.owner, ctx.lease_seconds):
                # Not ours any more: released by the step itself just now, or taken
                # over after it expired (this process stalled past the lease).
                holder = await store.lease_holder(ctx.runtime.db, job_uuid)
                if holder is not None:
                    log.warning("job_lease_lost", job=job_uuid, holder=holder)
                return

    renewal = asyncio.create_task(renew())
    try:
        yield job
    finally:
        stop.set()
        await renewal


async def compute_job(ctx: JobsContext, job_uuid: str) -> None:
    """The compute actor's body: compute (then deliver) a job that is due."""
    await advance(ctx, job_uuid)


async def deliver_job(ctx: JobsContext, job_uuid: str) -> None:
    """The deliver actor's body: attempt the delivery of a job that is due."""
    await advance(ctx, job_uuid)


async def advance(ctx: JobsContext, job_uuid: str) -> None:
    """Run the job's next step as its row says, whichever message brought us here.

    A duplicate or resumed message may find the job further along (or not as far)
    as its sender thought; the row decides.
    """
    async with claimed(ctx, job_uuid) as job:
        if job is None:
            return
        result_body = None
        if job.status in (QUEUED, RUNNING):
            result_body = await _compute_claimed(ctx, job)
            if result_body is None:
                return
        await _deliver_claimed(ctx, job, result_body)


async def _compute_claimed(ctx: JobsContext, job: ClaimedJob) -> str | None:
    """The result body (stored with the delivery's start); None when the job failed or
    was put back for later."""
    log.info("job_computing", job=job.uuid)
    # The engine bounds its upstream part by the request budget; this bounds the
    # whole step, so a step that hangs cannot hold the job for ever: it fails, and
    # is retried.
    deadline = 2 * ctx.runtime.settings.request_time_budget_seconds
    try:
        async with asyncio.timeout(deadline):
            return await ctx.computes.compute_body(ctx.runtime, job)
    except PermanentFailure as exc:
        log.info("job_failed", job=job.uuid, code=exc.code)
        await store.fail(ctx.runtime.db, job.uuid, ctx.owner, exc.code, exc.message)
        return None
    except Exception as exc:
        await _compute_error(ctx, job, exc)
        return None


async def _compute_error(ctx: JobsContext, job: ClaimedJob, exc: Exception) -> None:
    log.exception("job_compute_error", job=job.uuid, error=type(exc).__name__)
    failures = job.compute_failures + 1
    delay = retry_delay(ctx.retry_schedule, failures, ctx.runtime.settings.webhook_retry_jitter)
    if failures >= MAX_COMPUTE_FAILURES or delay is None:
        await store.fail(
            ctx.runtime.db,
            job.uuid,
            ctx.owner,
            "compute_error",
            "The metrics could not be computed.",
        )
        return
    if await store.retry_compute_later(ctx.runtime.db, job, ctx.owner, delay, type(exc).__name__):
        await ctx.queue.dispatch("compute", job.uuid, delay)


async def _deliver_claimed(ctx: JobsContext, job: ClaimedJob, result_body: str | None) -> None:
    """One attempt; `result_body` is a result computed just now, stored as the attempt
    starts (otherwise the job's stored result is sent)."""
    db = ctx.runtime.db
    settings = ctx.runtime.settings
    if job.delivery_started_at is not None:
        await store.record_interrupted_attempt(db, job, ctx.owner)
    text = result_body if result_body is not None else job.result_body
    assert text is not None, "a delivering job has its result"
    secret = await ctx.writes.start_delivery(job, result_body)
    if secret is None:
        return  # the lease was lost meanwhile: the new owner carries on
    body = text.encode("utf-8")
    signing_key = ctx.signing_key(secret)  # the merchant's webhook_secret
    headers = signed_headers(signing_key, job.webhook_id, clock.now(), body)
    number = job.attempt_count + 1
    outcome = await deliver(
        ctx.client, job.webhook_url, body, headers, settings.webhook_timeout_seconds
    )
    retry_in = None
    if not outcome.delivered:
        retry_in = retry_delay(ctx.retry_schedule, number, settings.webhook_retry_jitter)
    status = await ctx.writes.record_attempt(job, number, outcome, retry_in)
    log.info(
        "job_delivery_attempt",
        job=job.uuid,
        attempt=number,
        http_status=outcome.http_status,
        error=outcome.error,
        latency_ms=outcome.latency_ms,
        status=status,
    )
    if status == DELIVERING and retry_in is not None:
        await ctx.queue.dispatch("deliver", job.uuid, retry_in)
