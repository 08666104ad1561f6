"""What one async job costs, in figures that hold on a loaded machine: CPU per job and
round trips to the database and the broker per job, for acceptance and for the steps
apart (docs/benchmarks.md#async-job-costs).

    .venv/bin/python bench/job_costs.py                       # embedded, SQLite
    .venv/bin/python bench/job_costs.py --database-url postgresql://postgres@127.0.0.1/x
    .venv/bin/python bench/job_costs.py --database-url postgresql://... \\
        --broker redis://127.0.0.1:6379/15                    # Dramatiq worker, in-process

The API (in-process ASGI client), the job steps (the embedded queue, or a Dramatiq
worker with its threads) and the Instagram emulator (a uvicorn thread) run in this
process, the webhook receiver in its own. Phase 1 submits N jobs with the steps held
back; phase 2 lets them run until every webhook arrived. CPU is this process's, less
the emulator's thread (its own CPU clock). Round trips are counted
at the drivers: every exchange psycopg waits for (BEGIN and COMMIT included), every
aiosqlite call (each one a hop to its thread), every command batch redis-py sends.
`--profile accept` or `--profile steps` prints pyinstrument's report of that phase and
the phases after it (the event loop's thread only: not a Dramatiq worker's loop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.async_jobs import WIDGETS, ReceiverProcess, seed, serve
from metrics_connect.api.app import create_app
from metrics_connect.db.migrate import upgrade
from metrics_connect.jobs.embedded import InProcessQueue
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings


class Counts:
    """Statements, transactions and driver round trips, by phase."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.by_phase: dict[str, Counter[str]] = {}

    def add(self, what: str, n: int = 1) -> None:
        self.by_phase.setdefault(self.phase, Counter())[what] += n


@contextmanager
def counting(counts: Counts) -> Iterator[None]:
    """Count at the drivers while inside; the patches are undone on exit."""
    undo: list[Any] = []

    def patch(owner: Any, name: str, what: str) -> None:
        original = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            counts.add(what)
            return original(*args, **kwargs)

        setattr(owner, name, counted)
        undo.append((owner, name, original))

    def statement(*_args: Any) -> None:
        counts.add("statements")

    def begin(*_args: Any) -> None:
        counts.add("transactions")

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "begin", begin)
    import aiosqlite
    import psycopg
    import redis.connection

    # psycopg: a generator it waits on that waits for the socket is one exchange with
    # the server (BEGIN, a statement, COMMIT; setting autocommit is not one).
    original_wait = psycopg.AsyncConnection.wait

    def exchanges(gen: Any) -> Any:
        waited = False
        try:
            value = next(gen)
            while True:
                if not waited:
                    waited = True
                    counts.add("postgresql round trips")
                value = gen.send((yield value))
        except StopIteration as stop:
            return stop.value

    def counted_wait(self: Any, gen: Any, *args: Any, **kwargs: Any) -> Any:
        return original_wait(self, exchanges(gen), *args, **kwargs)

    psycopg.AsyncConnection.wait = counted_wait  # type: ignore[method-assign]
    undo.append((psycopg.AsyncConnection, "wait", original_wait))
    # aiosqlite: each call is queued to the connection's thread and awaited.
    patch(aiosqlite.Connection, "_execute", "sqlite thread hops")
    # redis-py (Dramatiq's client): one write per command or pipeline.
    patch(redis.connection.AbstractConnection, "send_packed_command", "redis round trips")
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        event.remove(Engine, "begin", begin)
        for owner, name, original in undo:
            setattr(owner, name, original)


def thread_cpu(thread: threading.Thread) -> float:
    assert thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


class HeldQueue:
    """Holds the embedded queue's dispatches during phase 1; `release` sends them on."""

    def __init__(self) -> None:
        self.held: list[tuple[InProcessQueue, tuple[Any, ...]]] = []
        self._original = InProcessQueue.dispatch

    def __enter__(self) -> HeldQueue:
        held = self.held

        async def hold(queue: InProcessQueue, *args: Any) -> None:
            held.append((queue, args))

        InProcessQueue.dispatch = hold  # type: ignore[method-assign]
        return self

    def __exit__(self, *_exc: object) -> None:
        InProcessQueue.dispatch = self._original  # type: ignore[method-assign]

    async def release(self) -> None:
        for queue, args in self.held:
            await self._original(queue, *args)


def _threads_named(prefix: str, before: set[int]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.ident not in before and t.name.startswith(prefix)]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="job-costs-"))
    database_url = args.database_url or f"sqlite:///{work / 'jobs.db'}"
    upgrade(database_url)
    network = build_sandbox()
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    _sandbox_server, sandbox_port = serve(network.app)
    sandbox_threads = [t for t in threading.enumerate() if t.ident not in before]
    receiver = ReceiverProcess()
    await receiver.wait_ready()
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": work,
        "credentials_key": Fernet.generate_key().decode(),
        "instagram_api_base_url": f"http://127.0.0.1:{sandbox_port}",
        "webhook_allowlist": "127.0.0.1",
        "sync_enabled": False,
        "log_level": "WARNING",
        "broker_url": args.broker,
        "job_queue_name": f"bench_costs_{uuid.uuid4().hex[:8]}",
        "job_embedded_concurrency": args.concurrency,
        "worker_threads": args.concurrency,
    }
    settings = Settings(**values)
    runtime = Runtime.from_settings(settings)
    headers, integration_uuid = await seed(runtime, network.demo_account)
    body = {
        "customer_integration": integration_uuid,
        "start": "2026-09-01",
        "end": "2026-09-30",
        "comparison_start": "2026-08-01",
        "comparison_end": "2026-08-31",
        "metrics": WIDGETS,
        "metrics_webhook_url": receiver.url,
    }
    app = create_app(runtime=runtime)
    counts = Counts()
    phases: dict[str, dict[str, float]] = {}
    profile_text = None
    async with app.router.lifespan_context(app):
        worker = _start_worker(settings, args) if args.broker else None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            # One job first, unmeasured: the engine's store fetches from the emulator
            # once; every measured job then computes what the seed request computes.
            first = await client.post("/metrics/get-data-async", json=body, headers=headers)
            first.raise_for_status()
            await _until(receiver, 1, 60)
            if worker is not None:
                worker.pause()  # phase 1 leaves the messages in the broker
            with counting(counts), HeldQueue() as held:
                counts.phase = "accept"
                profiler = _profiler() if args.profile == "accept" else None
                with _cpu(phases, "accept", sandbox_threads):
                    for _ in range(args.jobs):
                        answer = await client.post(
                            "/metrics/get-data-async", json=body, headers=headers
                        )
                        answer.raise_for_status()
                counts.phase = "steps"
                if profiler is None and args.profile == "steps":
                    profiler = _profiler()
                with _cpu(phases, "steps", sandbox_threads):
                    held.__exit__()
                    await held.release()
                    if worker is not None:
                        worker.resume()
                    await _until(receiver, args.jobs + 1, 600)
                if profiler is not None:
                    profiler.stop()
                    profile_text = profiler.output_text(unicode=False, color=False)
                if worker is not None:
                    await asyncio.to_thread(worker.stop)
    await runtime.db.dispose()
    await asyncio.sleep(0.5)  # a late duplicate would show up here
    await receiver.count()
    await receiver.stop()
    jobs = args.jobs
    per_job = {
        phase: {what: round(n / jobs, 2) for what, n in sorted(counter.items())}
        for phase, counter in counts.by_phase.items()
        if phase in ("accept", "steps")
    }
    result = {
        "mode": ("Dramatiq worker in-process, " if args.broker else "embedded queue, ")
        + ("PostgreSQL" if database_url.startswith("postgresql") else "SQLite"),
        "jobs": jobs,
        "concurrency": args.concurrency,
        "delivered": receiver.arrived - 1,
        "duplicates": receiver.deliveries - receiver.arrived,
        "cpu_ms_per_job": {phase: round(v["cpu"] / jobs * 1000, 2) for phase, v in phases.items()},
        "wall_s": {phase: round(v["wall"], 2) for phase, v in phases.items()},
        "per_job": per_job,
    }
    if profile_text:
        result["profile"] = profile_text
    return result


def _start_worker(settings: Settings, args: argparse.Namespace) -> Any:
    """A Dramatiq worker with its own runtime, as `metrics-connect worker` runs it (its
    event loop is the AsyncIO middleware's thread, not this one)."""
    from metrics_connect.jobs.broker import DramatiqQueue, set_worker_context
    from metrics_connect.jobs.context import JobsContext
    from metrics_connect.jobs.ssrf import WebhookGuard
    from metrics_connect.jobs.worker import WorkerLifecycle, build_worker

    queue = DramatiqQueue(args.broker, settings.job_queue_name)
    runtime = Runtime.from_settings(settings)
    ctx = JobsContext.build(runtime, queue, WebhookGuard(settings.webhook_allowlist))
    set_worker_context(ctx)
    queue.broker.add_middleware(WorkerLifecycle(ctx))
    worker = build_worker(queue, {settings.job_queue_name}, args.concurrency)
    worker.start()
    return worker


def _profiler() -> Any:
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="disabled")
    profiler.start()
    return profiler


@contextmanager
def _cpu(
    phases: dict[str, dict[str, float]], name: str, excluded: list[threading.Thread]
) -> Iterator[None]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    other0 = sum(thread_cpu(t) for t in excluded)
    yield
    other = sum(thread_cpu(t) for t in excluded) - other0
    phases[name] = {
        "cpu": time.process_time() - cpu0 - other,
        "wall": time.perf_counter() - wall0,
        "excluded_cpu": other,
    }


async def _until(receiver: ReceiverProcess, webhooks: int, timeout: float) -> None:
    if not await receiver.wait_for(webhooks, timeout):
        raise SystemExit("timed out waiting for the webhooks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--broker", default=None, help="redis://...: a Dramatiq worker")
    parser.add_argument("--profile", choices=["accept", "steps"], default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    profile = result.pop("profile", None)
    print(json.dumps(result, indent=2))
    if profile:
        print(profile)


if __name__ == "__main__":
    main()
