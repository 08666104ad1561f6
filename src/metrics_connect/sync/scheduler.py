"""The embedded sync schedule: an asyncio task in the service process.

`install(runtime)` adds a startup hook that, when `sync_enabled`, runs `sync_all` every
`sync_interval_seconds`, or sooner when a run asks for it (a story about to expire), and
a shutdown hook that stops it. At scale the worker calls the same `sync_all` instead.
"""

from __future__ import annotations

import asyncio
import logging

from metrics_connect import clock
from metrics_connect.background import stop_requested, stop_task
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import sync_all

log = logging.getLogger("metrics_connect.sync")

SERVICE_KEY = "sync_scheduler"
STOP_KEY = "sync_scheduler_stop"
# Never loop faster than this, whatever a run asks for.
MIN_PAUSE_SECONDS = 5.0
# On shutdown a running round may finish this long before it is cancelled: cancelling a
# database driver mid-query can leave its connection (and the pool's dispose) hanging.
STOP_GRACE_SECONDS = 10.0


async def run_forever(runtime: Runtime, stopping: asyncio.Event) -> None:
    interval = float(runtime.settings.sync_interval_seconds)
    while not stopping.is_set():
        pause = interval
        try:
            outcomes = await sync_all(runtime)
            due = [o.next_due for o in outcomes if o.next_due is not None]
            if due:
                pause = min(pause, (min(due) - clock.now()).total_seconds())
        except Exception:
            log.exception("sync round crashed")
        await stop_requested(stopping, max(MIN_PAUSE_SECONDS, pause))


async def _start(runtime: Runtime) -> None:
    if not runtime.settings.sync_enabled or SERVICE_KEY in runtime.services:
        return
    stopping = asyncio.Event()
    runtime.services[STOP_KEY] = stopping
    runtime.services[SERVICE_KEY] = asyncio.create_task(run_forever(runtime, stopping), name="sync")


async def _stop(runtime: Runtime) -> None:
    task = runtime.services.pop(SERVICE_KEY, None)
    stopping = runtime.services.pop(STOP_KEY, None)
    if isinstance(task, asyncio.Task) and isinstance(stopping, asyncio.Event):
        await stop_task(task, stopping, STOP_GRACE_SECONDS)


def install(runtime: Runtime) -> None:
    """Attach the embedded scheduler to the runtime's lifecycle."""
    runtime.on_startup(_start)
    runtime.on_shutdown(_stop)
