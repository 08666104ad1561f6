"""The embedded queue's stop: running steps get a grace period, then are cancelled, and
a step that ignores its cancellation cannot hang the service's shutdown."""

from __future__ import annotations

import asyncio

from metrics_connect.jobs.context import Step
from metrics_connect.jobs.embedded import InProcessQueue


async def test_a_running_step_finishes_within_the_grace() -> None:
    finished: list[str] = []

    async def step(_step: Step, job_uuid: str) -> None:
        await asyncio.sleep(0.1)
        finished.append(job_uuid)

    queue = InProcessQueue(step, concurrency=2)
    await queue.dispatch("compute", "job-1")
    await asyncio.sleep(0)
    await queue.close(grace_seconds=5)
    assert finished == ["job-1"]


async def test_a_step_that_ignores_cancellation_does_not_hang_the_stop() -> None:
    started, released = asyncio.Event(), asyncio.Event()
    tasks: list[asyncio.Task[object]] = []

    async def stubborn(_step: Step, _job_uuid: str) -> None:
        tasks.append(asyncio.current_task())  # type: ignore[arg-type]
        started.set()
        while not released.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue  # swallowed: the worst a step could do

    queue = InProcessQueue(stubborn, concurrency=1)
    await queue.dispatch("deliver", "job-2")
    await asyncio.wait_for(started.wait(), 5)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.wait_for(queue.close(grace_seconds=0.1), 5)
    assert loop.time() - began < 2
    assert not tasks[0].done()  # still there: close gave up on it rather than hang
    released.set()
    tasks[0].cancel()
    await asyncio.wait(tasks, timeout=5)
    assert tasks[0].done()


async def test_after_close_nothing_is_started() -> None:
    ran: list[str] = []

    async def step(_step: Step, job_uuid: str) -> None:
        ran.append(job_uuid)

    queue = InProcessQueue(step, concurrency=1)
    await queue.dispatch("compute", "later", delay_seconds=0.05)
    await queue.close()
    await queue.dispatch("compute", "after")
    await asyncio.sleep(0.1)
    assert ran == []
