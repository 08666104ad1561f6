"""The async job system under load: N jobs through POST /metrics/get-data-async, each
computed against the Instagram emulator and delivered, signed, to a receiver on
127.0.0.1. Reports jobs delivered per second, end-to-end time (submit -> webhook
received) percentiles, and duplicates (deliveries beyond one per job).

    python bench/async_jobs.py                        # embedded queue, 1,000 jobs
    python bench/async_jobs.py --broker redis://127.0.0.1:6379/0 --workers 2

Embedded mode runs the API in this process (in-process ASGI client) with its
in-process queue; distributed mode starts `metrics-connect worker` processes on the
broker. The receiver runs in a process of its own in both. Prints a table, writes
JSON (var/bench/async_jobs.json) and replaces its own section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy import select

from metrics_connect.accounts import service
from metrics_connect.api.app import create_app
from metrics_connect.db.migrate import upgrade
from metrics_connect.jobs.models import Job
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SECTION_START = "<!-- bench/async_jobs.py: start -->"
SECTION_END = "<!-- bench/async_jobs.py: end -->"
WIDGETS = [
    {"id": "reach", "reference_key": "ig:reach", "component": "number_v1", "metrics": ["reach"]},
    {
        "id": "reach_over_time",
        "reference_key": "ig:reach_over_time",
        "component": "chart_v1",
        "metrics": ["reach"],
        "dimensions": ["date"],
    },
    {
        "id": "followers_gender",
        "reference_key": "ig:followers_gender",
        "component": "chart_v1",
        "metrics": ["followers"],
        "dimensions": ["gender"],
    },
]


class Receiver:
    """Records the first arrival time of every webhook-id, and every repeat. GET
    /__stats answers how many of each, /__stats?full=1 the arrival times too (for
    ReceiverProcess). With `counts` (shared memory: jobs, deliveries) it also keeps
    them there, where the benchmark reads them without a request."""

    def __init__(self, counts: Any = None) -> None:
        self.first_arrival: dict[str, float] = {}
        self.deliveries = 0
        self._lock = threading.Lock()
        self._counts = counts

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/__stats":
            await self._stats(send, full=scope["query_string"] == b"full=1")
            return
        webhook_id = ""
        for name, value in scope["headers"]:
            if name == b"webhook-id":
                webhook_id = value.decode()
        more = True
        while more:  # drain the body
            message = await receive()
            more = message.get("more_body", False)
        now = time.perf_counter()
        with self._lock:
            self.deliveries += 1
            self.first_arrival.setdefault(webhook_id, now)
            if self._counts is not None:
                self._counts[:] = [len(self.first_arrival), self.deliveries]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def _stats(self, send: Any, full: bool) -> None:
        with self._lock:
            stats: dict[str, Any] = {"jobs": len(self.first_arrival), "deliveries": self.deliveries}
            if full:
                stats["first_arrival"] = dict(self.first_arrival)
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(stats).encode()})


def _serve_receiver(port: int, counts: Any) -> None:
    uvicorn.run(
        Receiver(counts),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


class ReceiverProcess:
    """The receiver in a process of its own, as a real receiver is: in the benchmark's
    process its work (HTTP parsing, a thread) took the service's GIL, and the service
    was measured with it. Arrival times are `time.perf_counter()`, the system-wide
    monotonic clock, so they compare with this process's submission times."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.first_arrival: dict[str, float] = {}
        self.arrived = 0
        self.deliveries = 0
        spawn = multiprocessing.get_context("spawn")
        # Jobs and deliveries so far, in shared memory: polling them over HTTP cost the
        # measured process a request (about 2 ms of CPU with httpx) five times a second.
        self._counts = spawn.Array("q", 2)
        self._process = spawn.Process(
            target=_serve_receiver, args=(self.port, self._counts), daemon=True
        )
        self._process.start()
        self._client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.count()
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or not self._process.is_alive():
                    raise SystemExit("the webhook receiver did not start") from None
                await asyncio.sleep(0.1)

    async def count(self) -> int:
        """Jobs that arrived (first deliveries), also kept as `arrived` (asked over
        HTTP: the receiver answers, so it is up)."""
        stats = (await self._client.get("/__stats")).json()
        self.arrived: int = stats["jobs"]
        self.deliveries = stats["deliveries"]
        return self.arrived

    def counted(self) -> int:
        """Jobs that arrived so far, from the shared counts (no request)."""
        self.arrived, self.deliveries = self._counts[:]
        return self.arrived

    async def wait_for(self, jobs: int, timeout: float) -> bool:
        """Until `jobs` jobs arrived (True) or `timeout` seconds passed (False), looking
        at the shared counts twenty times a second."""
        deadline = time.monotonic() + timeout
        while self.counted() < jobs:
            if time.monotonic() > deadline or not self._process.is_alive():
                return False
            await asyncio.sleep(0.05)
        await self.count()
        return True

    async def refresh(self) -> None:
        """Every arrival time and the deliveries, as the receiver has them now."""
        stats = (await self._client.get("/__stats", params={"full": "1"})).json()
        self.first_arrival = stats["first_arrival"]
        self.arrived = stats["jobs"]
        self.deliveries = stats["deliveries"]

    async def stop(self) -> None:
        await self._client.aclose()
        self._process.terminate()
        self._process.join(10)


def serve(app: Any) -> tuple[uvicorn.Server, int]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return server, port


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user and system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def seed(runtime: Runtime, account: Any) -> tuple[dict[str, str], str]:
    async with runtime.db.session() as session:
        merchant = await service.create_merchant(
            session,
            runtime.vault,
            runtime.settings,
            "Bench agency",
            rate_limit_per_second=1_000_000,
            rate_limit_per_minute=60_000_000,
        )
        customer = await service.create_customer(
            session, runtime.settings, merchant.record, "Bench customer", is_paying=True
        )
        integration = await service.create_integration(
            session,
            runtime.vault,
            customer.record,
            slug="instagram_business",
            source_name=account.source_name,
            external_id=account.external_id,
            credentials=dict(account.credentials),
            timezone=account.timezone,
        )
        await session.commit()
    headers = {"Authorization": f"Bearer {merchant.token}", "x-customer-token": customer.token}
    return headers, integration.uuid


def start_workers(count: int, threads: int, env: dict[str, str], logs: Path) -> list[Any]:
    workers = []
    for n in range(count):
        log = open(logs / f"worker-{n}.log", "wb")  # noqa: SIM115
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "metrics_connect.cli", "worker", "--threads", str(threads)],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 180
    for n in range(count):  # submit only once every worker consumes
        while b"worker_ready" not in (logs / f"worker-{n}.log").read_bytes():
            if time.monotonic() > deadline or workers[n].poll() is not None:
                raise SystemExit(f"worker {n} did not start; see {logs}/worker-{n}.log")
            time.sleep(0.2)
    return workers


async def bounded(limit: int, items: list[Any], fn: Callable[[Any], Awaitable[None]]) -> None:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            await fn(queue.get_nowait())

    await asyncio.gather(*(worker() for _ in range(limit)))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="async-jobs-bench-"))
    database_url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    upgrade(database_url)
    network = build_sandbox()
    _sandbox_server, sandbox_port = serve(network.app)
    receiver = ReceiverProcess()
    await receiver.wait_ready()
    webhook_url = receiver.url

    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": work,
        "credentials_key": Fernet.generate_key().decode(),
        "instagram_api_base_url": f"http://127.0.0.1:{sandbox_port}",
        "webhook_allowlist": "127.0.0.1",
        "sync_enabled": False,
        "log_level": "WARNING",
        "broker_url": args.broker,
        "job_queue_name": f"bench_jobs_{uuid.uuid4().hex[:8]}",
        "job_embedded_concurrency": args.concurrency,
        "worker_threads": args.concurrency,
    }
    settings = Settings(**values)
    runtime = Runtime.from_settings(settings)
    headers, integration_uuid = await seed(runtime, network.demo_account)
    workers: list[Any] = []
    if args.broker:
        env = {f"METRICS_CONNECT_{k.upper()}": str(v) for k, v in values.items() if v is not None}
        env["METRICS_CONNECT_LOG_LEVEL"] = "INFO"  # start_workers waits for "worker_ready"
        workers = start_workers(args.workers, args.concurrency, env, work)

    app = create_app(runtime=runtime)
    submitted: dict[str, float] = {}
    accept_ms: list[float] = []
    refused = 0
    body = {
        "customer_integration": integration_uuid,
        "start": "2026-09-01",
        "end": "2026-09-30",
        "comparison_start": "2026-08-01",
        "comparison_end": "2026-08-31",
        "metrics": WIDGETS,
        "metrics_webhook_url": webhook_url,
    }
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

                async def submit(_n: int) -> None:
                    nonlocal refused
                    started = time.perf_counter()
                    response = await client.post(
                        "/metrics/get-data-async", json=body, headers=headers
                    )
                    accept_ms.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        refused += 1
                        return
                    submitted[response.json()["job"]["uuid"]] = started

                first_submit = time.perf_counter()
                cpu_before = time.process_time(), [process_cpu(w.pid) for w in workers]
                await bounded(args.submit_concurrency, list(range(args.jobs)), submit)
                await receiver.wait_for(len(submitted), args.timeout)
                cpu_after = time.process_time(), [process_cpu(w.pid) for w in workers]
                await asyncio.sleep(1.0)  # a late duplicate would show up here
                await receiver.refresh()
                async with runtime.db.session() as session:
                    rows = (
                        await session.execute(select(Job.uuid, Job.webhook_id, Job.status))
                    ).all()
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=60)
        await runtime.db.dispose()
        await receiver.stop()
        shutil.rmtree(work, ignore_errors=True)

    # Only this run's jobs (a reused database may hold others).
    rows = [row for row in rows if row[0] in submitted]
    webhook_of = {job_uuid: webhook_id for job_uuid, webhook_id, _ in rows}
    statuses = [status for _, _, status in rows]
    end_to_end = [
        (receiver.first_arrival[webhook_of[u]] - t) * 1000
        for u, t in submitted.items()
        if webhook_of.get(u) in receiver.first_arrival
    ]
    delivered = len(end_to_end)
    last_arrival = max(receiver.first_arrival.values(), default=first_submit)
    wall = last_arrival - first_submit
    return {
        "mode": (f"redis, {args.workers} worker processes" if args.broker else "embedded")
        + (", PostgreSQL" if database_url.startswith("postgresql") else ", SQLite"),
        "jobs": args.jobs,
        "accepted": len(submitted),
        "refused": refused,
        "delivered": delivered,
        "status_delivered": statuses.count("delivered"),
        "status_failed": statuses.count("failed"),
        "deliveries_received": receiver.deliveries,
        "duplicates": receiver.deliveries - len(receiver.first_arrival),
        "concurrency": args.concurrency,
        "wall_seconds": round(wall, 3),
        # CPU per job submitted, from first submit to last arrival: this process (API,
        # in-process client and, embedded, the steps) and the worker processes.
        "cpu_ms_per_job": {
            "this process": round((cpu_after[0] - cpu_before[0]) / args.jobs * 1000, 2),
            "workers": round((sum(cpu_after[1]) - sum(cpu_before[1])) / args.jobs * 1000, 2),
        },
        "jobs_per_second": round(delivered / wall, 1) if wall > 0 else None,
        "end_to_end_ms": {
            "p50": round(percentile(end_to_end, 50), 1) if end_to_end else None,
            "p95": round(percentile(end_to_end, 95), 1) if end_to_end else None,
            "p99": round(percentile(end_to_end, 99), 1) if end_to_end else None,
            "max": round(max(end_to_end), 1) if end_to_end else None,
        },
        "accept_ms": {
            "p50": round(statistics.median(accept_ms), 2) if accept_ms else None,
            "p95": round(percentile(accept_ms, 95), 2) if accept_ms else None,
        },
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                check=False,
                cwd=REPO,
            ).stdout.strip(),
            "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        },
    }


def table(result: dict[str, Any]) -> list[tuple[str, str]]:
    e2e, accept = result["end_to_end_ms"], result["accept_ms"]
    return [
        ("mode", f"{result['mode']}, {result['concurrency']} steps at once per process"),
        ("jobs accepted / refused", f"{result['accepted']} / {result['refused']}"),
        (
            "jobs delivered (rows delivered / failed)",
            f"{result['delivered']} ({result['status_delivered']} / {result['status_failed']})",
        ),
        ("jobs delivered per second", f"{result['jobs_per_second']}"),
        (
            "end to end p50 / p95 / p99 / max",
            f"{e2e['p50']} / {e2e['p95']} / {e2e['p99']} / {e2e['max']} ms",
        ),
        ("accept (HTTP 200) p50 / p95", f"{accept['p50']} / {accept['p95']} ms"),
        ("duplicates (deliveries beyond one per job)", f"{result['duplicates']}"),
        ("wall, first submit to last delivery", f"{result['wall_seconds']} s"),
        (
            "CPU per job: this process (API, client, embedded steps) / workers",
            f"{result['cpu_ms_per_job']['this process']} / "
            f"{result['cpu_ms_per_job']['workers']} ms",
        ),
    ]


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        SECTION_START,
        "## Async jobs (`python bench/async_jobs.py`)",
        "",
        "Jobs through POST /metrics/get-data-async, computed against the Instagram emulator",
        "(3 widgets, 30 days + comparison) and delivered, signed, to a receiver on 127.0.0.1",
        "answering 204. All jobs are submitted at once (32 concurrent clients), so the",
        "end-to-end times (submit until the webhook arrives) include the queueing of the",
        "burst; jobs per second is deliveries over the time from first submit to last",
        "delivery. The API, workers, emulator and receiver (a process of its own) share",
        "the machine's CPUs.",
        "",
    ]
    for result in results:
        machine = result["machine"]
        lines += [
            f"**{result['jobs']} jobs, {result['mode']}** ({machine['at']}, commit "
            f"{machine['commit']}, {machine['nproc']} CPUs, load average "
            f"{machine['load_average_1m']} at the end)",
            "",
            "| measure | value |",
            "|---|---|",
            *(f"| {k} | {v} |" for k, v in table(result)),
            "",
        ]
    lines.append(SECTION_END)
    return "\n".join(lines)


def write_markdown(section: str, path: Path) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--broker", default=None, help="redis://... : distributed mode")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (with --broker)")
    parser.add_argument("--concurrency", type=int, default=16, help="steps at once per process")
    parser.add_argument("--submit-concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--json", type=Path, default=REPO / "var" / "bench" / "async_jobs.json")
    parser.add_argument("--markdown", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--no-markdown", action="store_true")
    args = parser.parse_args()

    result = asyncio.run(run(args))
    width = max(len(k) for k, _ in table(result))
    for key, value in table(result):
        print(f"{key:<{width}}  {value}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    previous: list[dict[str, Any]] = []
    if args.json.exists():
        previous = [r for r in json.loads(args.json.read_text()) if r["mode"] != result["mode"]]
    results = [*previous, result]
    args.json.write_text(json.dumps(results, indent=2))
    if not args.no_markdown:
        write_markdown(markdown(results), args.markdown)


if __name__ == "__main__":
    main()
