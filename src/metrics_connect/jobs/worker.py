"""`metrics-connect worker`: a Dramatiq worker process running the job actors.

Run as many as needed, on as many machines, against one database and one broker
(METRICS_CONNECT_DATABASE_URL, METRICS_CONNECT_BROKER_URL). Each process keeps its
own event loop (Dramatiq's AsyncIO middleware) holding the runtime, runs
`worker_threads` steps at once, sweeps for jobs that a dead worker left
behind, and runs a sync scheduler whose claims any worker runs (sync/queue.py).
SIGTERM or SIGINT stops it cleanly: running steps finish, leases are handed back.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware

from metrics_connect.jobs import store
from metrics_connect.jobs.broker import DramatiqQueue, set_worker_context
from metrics_connect.jobs.context import JobsContext
from metrics_connect.jobs.ssrf import WebhookGuard
from metrics_connect.jobs.sweeper import Sweeper, sweep_once
from metrics_connect.logging_setup import configure_logging, get_logger
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from metrics_connect.sync.queue import install_worker as install_sync_worker

log = get_logger("metrics_connect.worker")

SHUTDOWN_TIMEOUT_MS = 60_000
# The longest a worker's consumer sleeps before asking the broker again. Dramatiq's
# consumer backs off exponentially (jittered) up to this bound whenever a fetch brings
# nothing, and a fetch brings nothing whenever its prefetch (2 x threads) is all taken,
# i.e. under load: at Dramatiq's 1,000 ms default a busy worker's threads could finish
# their cached messages and wait up to a second for the next fetch. Idle, 100 ms costs
# one fetch per queue every 100 ms.
CONSUMER_POLL_MS = 100


class WorkerLifecycle(Middleware):
    """Starts the runtime and the sweeper on the worker's event loop; stops them last."""

    def __init__(self, ctx: JobsContext) -> None:
        self.ctx = ctx
        self._sweeper = Sweeper(ctx)

    def _run(self, coro: Any) -> Any:
        thread = get_event_loop_thread()
        assert thread is not None, "the AsyncIO middleware starts the event loop"
        return thread.run_coroutine(coro)

    async def _boot(self) -> None:
        await self.ctx.runtime.start()
        await sweep_once(self.ctx)
        self._sweeper.start()

    async def _shutdown(self) -> None:
        await self._sweeper.stop()
        await self.ctx.writes.settled()
        await store.release_all(self.ctx.runtime.db, self.ctx.owner)
        await self.ctx.close()
        await self.ctx.runtime.stop()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._run(self._boot())
        log.info("worker_ready", owner=self.ctx.owner)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Added after AsyncIO, so it runs before AsyncIO stops the loop.
        self._run(self._shutdown())


def run_worker(settings: Settings, threads: int | None = None) -> int:
    if not settings.broker_url:
        raise SystemExit(
            "error: a worker needs a broker: set METRICS_CONNECT_BROKER_URL "
            "(redis://... or amqp://...). Without one, the API runs jobs in-process."
        )
    configure_logging(settings.log_level, settings.log_json)
    runtime = Runtime.from_settings(settings)
    queue = DramatiqQueue(settings.broker_url, settings.job_queue_name)
    ctx = JobsContext.build(runtime, queue, WebhookGuard(settings.webhook_allowlist))
    set_worker_context(ctx)
    install_sync_worker(runtime, queue.broker)
    queue.broker.add_middleware(WorkerLifecycle(ctx))

    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("worker_stopping", signal=signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    worker = build_worker(
        queue,
        {settings.job_queue_name, settings.sync_queue_name},
        threads or settings.worker_threads,
    )
    worker.start()
    try:
        stopping.wait()
    finally:
        worker.stop(timeout=SHUTDOWN_TIMEOUT_MS)
        queue.broker.close()
        set_worker_context(None)
    return 0


def build_worker(queue: DramatiqQueue, queue_names: set[str], threads: int) -> dramatiq.Worker:
    return dramatiq.Worker(
        queue.broker,
        queues=queue_names,
        worker_threads=threads,
        worker_timeout=CONSUMER_POLL_MS,
    )


def _child(threads: int | None) -> None:
    from metrics_connect.settings import get_settings

    raise SystemExit(run_worker(get_settings(), threads))


def run_workers(settings: Settings, processes: int = 1, threads: int | None = None) -> int:
    """`processes` worker processes under this one; SIGTERM/SIGINT stop them all.

    When one child exits the others are stopped too, so that the supervisor running
    this command (systemd, a container runtime) sees it and restarts the whole.
    """
    if processes <= 1:
        return run_worker(settings, threads)
    if not settings.broker_url:
        return run_worker(settings, threads)  # explains the missing broker
    spawn = multiprocessing.get_context("spawn")
    children = [spawn.Process(target=_child, args=(threads,)) for _ in range(processes)]
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for child in children:
        child.start()
    while not stopping.is_set() and all(child.is_alive() for child in children):
        stopping.wait(0.5)
    for child in children:
        if child.is_alive():
            child.terminate()  # SIGTERM: a clean stop
    for child in children:
        child.join(SHUTDOWN_TIMEOUT_MS / 1000)
    return max((child.exitcode or 0) for child in children) if not stopping.is_set() else 0
