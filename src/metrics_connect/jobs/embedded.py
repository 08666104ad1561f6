"""The embedded queue: with no broker configured, job steps run as tasks in this process.

The same step functions the Dramatiq actors run are started here as asyncio tasks,
at most `job_embedded_concurrency` at once; a delayed step is a timer. Nothing here
is durable and nothing needs to be: the job rows are, and on start the service
resumes every unfinished job they show (`jobs/lifecycle.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from metrics_connect.background import end_tasks
from metrics_connect.jobs.context import Step
from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.jobs")

StepRunner = Callable[[Step, str], Awaitable[None]]


class InProcessQueue:
    def __init__(self, run_step: StepRunner, concurrency: int) -> None:
        self._run_step = run_step
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._closed = False

    async def dispatch(self, step: Step, job_uuid: str, delay_seconds: float = 0.0) -> None:
        if self._closed:
            return
        if delay_seconds > 0:
            loop = asyncio.get_running_loop()
            timer: asyncio.TimerHandle | None = None

            def fire() -> None:
                if timer is not None:
                    self._timers.discard(timer)
                self._start(step, job_uuid)

            timer = loop.call_later(delay_seconds, fire)
            self._timers.add(timer)
        else:
            self._start(step, job_uuid)

    def _start(self, step: Step, job_uuid: str) -> None:
        if self._closed:
            return
        task = asyncio.create_task(self._run(step, job_uuid), name=f"job-{step}-{job_uuid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, step: Step, job_uuid: str) -> None:
        async with self._slots:
            try:
                await self._run_step(step, job_uuid)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The row keeps its state; the sweeper retries once the lease expires.
                log.exception("job_step_crashed", job=job_uuid, step=step)

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Stop taking steps; let running ones finish for a moment, then cancel them.

        A cancelled step leaves its job leased; the lifecycle hands the lease back,
        so the next start resumes it.
        """
        self._closed = True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        await end_tasks(list(self._tasks), grace_seconds)
