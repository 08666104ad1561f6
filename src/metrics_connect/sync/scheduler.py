"""The sync scheduler: claims due integrations from the schedule (sync/schedule.py) and
has them run.

- Embedded (no broker): `install(runtime)` runs the scheduler as an asyncio task of the
  service process; claimed integrations run in-process, at most `sync_concurrency` at
  once (and `sync_network_concurrency` of one network).
- With a broker the API process schedules nothing: every `metrics-connect worker`
  runs a scheduler (`install_worker`, sync/queue.py) that sends each claimed
  integration as a Dramatiq message, which any worker runs. Schedulers claim disjoint
  rows (SKIP LOCKED), so adding workers shards the work; claims sent and not finished
  stay under `2 * sync_batch_size` fleet-wide, so a slow fleet does not flood the queue.

A scheduler wakes when a run ends, when the earliest due time comes, and at least every
`sync_poll_seconds`; it adds a schedule row (due at once) for each new integration.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from metrics_connect import clock
from metrics_connect.background import end_tasks, stop_task
from metrics_connect.logging_setup import get_logger
from metrics_connect.networks.registry import networks
from metrics_connect.runtime import Runtime
from metrics_connect.sync import schedule
from metrics_connect.sync.runner import run_claim
from metrics_connect.sync.schedule import Claim

log = get_logger("metrics_connect.sync")

SERVICE_KEY = "sync_scheduler"
STOP_KEY = "sync_scheduler_stop"
# On shutdown a running round may finish this long before it is cancelled: cancelling a
# database driver mid-query can leave its connection (and the pool's dispose) hanging.
STOP_GRACE_SECONDS = 10.0
# New integrations are looked for at most this often (real seconds).
ADD_MISSING_EVERY = 5.0

Send = Callable[[list[Claim]], Awaitable[None]]


def syncing_networks() -> list[str]:
    return sorted(slug for slug, net in networks().items() if net.spec.sync)


class SyncScheduler:
    """One scheduler loop; `send` given: claims go to the task queue, else run here."""

    def __init__(self, runtime: Runtime, send: Send | None = None) -> None:
        self.runtime = runtime
        self.send = send
        self.settings = runtime.settings
        self.running: dict[asyncio.Task[object], Claim] = {}
        self._woken = asyncio.Event()
        self._added_at = float("-inf")

    async def run_forever(self, stopping: asyncio.Event) -> None:
        try:
            while not stopping.is_set():
                try:
                    busy = await self.round()
                except Exception:
                    log.exception("sync_round_crashed")
                    busy = False
                if not busy:
                    await self._pause(stopping)
        finally:
            await self._end_running()

    async def round(self) -> bool:
        """Claim and start what is due; True when more may be due right away."""
        db, settings, now = self.runtime.db, self.settings, clock.now()
        slugs = syncing_networks()
        if time.monotonic() - self._added_at >= ADD_MISSING_EVERY:
            await schedule.add_missing(db, slugs, now)
            self._added_at = time.monotonic()
        if self.send is None:
            room = settings.sync_concurrency - len(self.running)
        else:
            room = 2 * settings.sync_batch_size - await schedule.outstanding(db, now)
        limit = min(settings.sync_batch_size, room)
        if limit <= 0:
            return False
        claims = await schedule.claim_due(db, slugs, now, limit, settings.sync_lease_seconds)
        if self.send is not None:
            if claims:
                await self.send(claims)
        else:
            for claim in claims:
                self._start(claim)
        return len(claims) == limit

    def _start(self, claim: Claim) -> None:
        task: asyncio.Task[object] = asyncio.create_task(
            run_claim(self.runtime, claim), name=f"sync-{claim.integration_id}"
        )
        self.running[task] = claim
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        self.running.pop(task, None)
        self._woken.set()

    async def _pause(self, stopping: asyncio.Event) -> None:
        pause = self.settings.sync_poll_seconds
        due = await schedule.next_due_at(self.runtime.db, syncing_networks())
        if due is not None:
            pause = min(pause, max(0.0, (due - clock.now()).total_seconds()))
        self._woken.clear()
        waits = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(self._woken.wait())]
        try:
            await asyncio.wait(waits, timeout=max(pause, 0.01), return_when="FIRST_COMPLETED")
        finally:
            for waiter in waits:
                waiter.cancel()

    async def _end_running(self) -> None:
        """Runs under way may end; claims of runs cancelled after the grace go back."""
        claims = list(self.running.values())
        await end_tasks(list(self.running), STOP_GRACE_SECONDS)
        await schedule.release(self.runtime.db, claims)


def install_scheduler(runtime: Runtime, send: Send | None = None) -> None:
    """Run a scheduler loop on the runtime's lifecycle while `sync_enabled`."""

    async def start(rt: Runtime) -> None:
        if not rt.settings.sync_enabled or SERVICE_KEY in rt.services:
            return
        stopping = asyncio.Event()
        scheduler = SyncScheduler(rt, send)
        rt.services[STOP_KEY] = stopping
        rt.services[SERVICE_KEY] = asyncio.create_task(scheduler.run_forever(stopping), name="sync")

    async def stop(rt: Runtime) -> None:
        task = rt.services.pop(SERVICE_KEY, None)
        stopping = rt.services.pop(STOP_KEY, None)
        if isinstance(task, asyncio.Task) and isinstance(stopping, asyncio.Event):
            # Twice the grace: the loop itself gives its runs one grace to end.
            await stop_task(task, stopping, 2 * STOP_GRACE_SECONDS)

    runtime.on_startup(start)
    runtime.on_shutdown(stop)


def install(runtime: Runtime) -> None:
    """The service process's scheduler: embedded only (with a broker, workers run it)."""
    if runtime.settings.broker_url:
        return
    install_scheduler(runtime)
