"""The embedded sync schedule: an asyncio task in the service process.

`install(runtime)` adds a startup hook that, when `sync_enabled`, runs `sync_all` every
`sync_interval_seconds`, or sooner when a run asks for it (a story about to expire), and
a shutdown hook that stops it. At scale the worker calls the same `sync_all` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from metrics_connect import clock
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import sync_all

log = logging.getLogger("metrics_connect.sync")

SERVICE_KEY = "sync_scheduler"
# Never loop faster than this, whatever a run asks for.
MIN_PAUSE_SECONDS = 5.0


async def run_forever(runtime: Runtime) -> None:
    interval = float(runtime.settings.sync_interval_seconds)
    while True:
        pause = interval
        try:
            outcomes = await sync_all(runtime)
            due = [o.next_due for o in outcomes if o.next_due is not None]
            if due:
                pause = min(pause, (min(due) - clock.now()).total_seconds())
        except Exception:
            log.exception("sync round crashed")
        await asyncio.sleep(max(MIN_PAUSE_SECONDS, pause))


async def _start(runtime: Runtime) -> None:
    if not runtime.settings.sync_enabled or SERVICE_KEY in runtime.services:
        return
    runtime.services[SERVICE_KEY] = asyncio.create_task(run_forever(runtime), name="sync")


async def _stop(runtime: Runtime) -> None:
    task = runtime.services.pop(SERVICE_KEY, None)
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def install(runtime: Runtime) -> None:
    """Attach the embedded scheduler to the runtime's lifecycle."""
    runtime.on_startup(_start)
    runtime.on_shutdown(_stop)
