"""Recovery: re-dispatch jobs whose worker died or whose queue message was lost.

Runs in every worker process (and in the embedded service). The job rows are the
truth; a broker may lose a message, a process may be SIGKILLed holding a lease.
Both leave a row that is unfinished and unattended, which this finds.
"""

from __future__ import annotations

import asyncio

from metrics_connect.background import stop_requested, stop_task
from metrics_connect.jobs import store
from metrics_connect.jobs.context import JobsContext, Step
from metrics_connect.jobs.models import DELIVERING
from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.jobs")

# How long stopping waits for a sweep under way before cancelling it.
STOP_TIMEOUT_SECONDS = 10.0


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


class Sweeper:
    """`sweep_once` every `job_sweep_interval_seconds`, as a task that is asked to stop.

    Stopping waits for a sweep under way to end rather than cancelling it: a query
    cancelled halfway can leave its connection mid-transaction, holding job rows.
    """

    def __init__(self, ctx: JobsContext) -> None:
        self.ctx = ctx
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="jobs-sweeper")

    async def _run(self) -> None:
        interval = self.ctx.runtime.settings.job_sweep_interval_seconds
        while not await stop_requested(self._stopping, interval):
            try:
                await sweep_once(self.ctx)
            except Exception:
                log.exception("jobs_sweep_failed")

    async def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        task, self._task = self._task, None
        if task is not None:
            await stop_task(task, self._stopping, timeout)
