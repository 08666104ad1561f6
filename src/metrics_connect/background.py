"""Stopping a background task of the service (the sync scheduler, the jobs sweeper).

Such a task is asked to stop and given time to end its round: a round cancelled
halfway may abandon a query mid-transaction. Only a task still running after the
grace is cancelled, and the stop never waits on it for ever.
"""

from __future__ import annotations

import asyncio
from typing import Any

from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.background")


async def stop_task(task: asyncio.Task[Any], stopping: asyncio.Event, grace_seconds: float) -> None:
    stopping.set()
    await asyncio.wait({task}, timeout=grace_seconds)
    if task.done():
        return
    task.cancel()
    await asyncio.wait({task}, timeout=grace_seconds)
    if not task.done():
        log.warning("background_task_did_not_stop", task=task.get_name())
