"""Recovery: re-dispatch jobs whose worker died or whose queue message was lost.

Runs in every worker process (and in the embedded service). The job rows are the
truth; a broker may lose a message, a process may be SIGKILLed holding a lease.
Both leave a row that is unfinished and unattended, which this finds.
"""

from __future__ import annotations

import asyncio

from metrics_connect.jobs import store
from metrics_connect.jobs.context import JobsContext, Step
from metrics_connect.jobs.models import DELIVERING
from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.jobs")


def step_for(status: str) -> Step:
    return "deliver" if status == DELIVERING else "compute"


async def dispatch_pending(ctx: JobsContext, pending: list[store.Pending]) -> None:
    for item in pending:
        await ctx.queue.dispatch(step_for(item.status), item.uuid, item.delay_seconds)


async def sweep_once(ctx: JobsContext) -> int:
    settings = ctx.runtime.settings
    pending = await store.take_stalled(ctx.runtime.db, settings.job_requeue_after_seconds)
    if pending:
        log.info("jobs_requeued", count=len(pending))
        await dispatch_pending(ctx, pending)
    return len(pending)


async def resume_unfinished(ctx: JobsContext) -> int:
    """On start: every unfinished job that no live worker holds goes back in the queue."""
    total, after_id = 0, 0
    while True:
        pending, last_id = await store.take_unfinished(ctx.runtime.db, after_id)
        await dispatch_pending(ctx, pending)
        total += len(pending)
        if not last_id:
            break
        after_id = last_id
    if total:
        log.info("jobs_resumed", count=total)
    return total


async def sweep_forever(ctx: JobsContext) -> None:
    interval = ctx.runtime.settings.job_sweep_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep_once(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("jobs_sweep_failed")
