"""The service's background tasks (sync scheduler, jobs sweeper, lease renewal, job
steps): pausing until asked to stop, and stopping them.

Such a task is asked to stop and given time to end its round: a round cancelled
halfway may abandon a query mid-transaction. Only a task still running after the
grace is cancelled, and the stop never waits on it for ever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.background")


async def stop_requested(stopping: asyncio.Event, seconds: float) -> bool:
    """Pause up to `seconds`; True as soon as `stopping` is set."""
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def end_tasks(tasks: Collection[asyncio.Task[Any]], grace_seconds: float) -> None:
    """Wait `grace_seconds` for the tasks, cancel those still running, and wait for
    them as long again at most (a task may ignore its cancellation)."""
    if not tasks:
        return
    _, running = await asyncio.wait(tasks, timeout=grace_seconds)
    if not running:
        return
    for task in running:
        task.cancel()
    _, stuck = await asyncio.wait(running, timeout=grace_seconds)
    for task in stuck:
        log.warning("background_task_did_not_stop", task=task.get_name())


async def stop_task(task: asyncio.Task[Any], stopping: asyncio.Event, grace_seconds: float) -> None:
    stopping.set()
    await end_tasks({task}, grace_seconds)
