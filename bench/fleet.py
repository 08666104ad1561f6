"""The fleet benchmark: N sandbox Instagram integrations kept archived by the sync
scheduler on PostgreSQL + Redis with two worker processes (docs/benchmarks.md).

    .venv/bin/python bench/fleet.py                       # 100 and 1,000 integrations
    .venv/bin/python bench/fleet.py --sizes 100,1000,10000
    .venv/bin/python bench/fleet.py --sizes 1000,10000 --speed 240,24 --hours 24,12

`--speed`, `--hours` and `--warmup-hours` take one value for every size or one per size
(N integrations at speed S load the workers as N x S would in real time: a larger fleet
at a lower speed keeps the load and the run's length in reach).

For each size it makes an empty database with N integrations of the emulator's
generated accounts (each due once in the first simulated hour, as a fleet already
running would be), starts the emulator and two `metrics-connect worker` processes on
a simulated clock running `--speed` times real time, lets `--warmup-hours` then
`--hours` of simulated time pass, and measures the latter from the workers'
`sync_run` log lines and the emulator's counter:

- archive lag: how long after its due time each run started (simulated time);
- upstream calls per integration-day (HTTP requests the emulator answered);
- stories missed: stories of the accounts that expired after the integration's first
  run and within the run, whose archived values are not their final ones (must be 0).

It writes bench/results/fleet.json, the lag curve bench/results/fleet_lag.png, and
its section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import signal
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/fleet.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import create_engine, insert, select

from bench import report
from bench.fleet_clock import SimulatedClock
from bench.stack import (
    REPO,
    WORK_DIR,
    ServiceProcess,
    answers,
    credentials_key,
    free_port,
    reset_postgres_database,
    start_process,
    wait_ready,
)
from metrics_connect.accounts.credentials import vault_for_key
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.accounts.service import create_customer, create_merchant
from metrics_connect.db.engine import sync_url
from metrics_connect.db.migrate import upgrade
from metrics_connect.engine.tables import fact_objects
from metrics_connect.networks.instagram_business.emulator.fleet import (
    fleet_account,
    fleet_sandbox,
)
from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.accounts import INSTAGRAM_USER_ID
from metrics_connect.settings import Settings
from metrics_connect.sync.models import SyncState
from metrics_connect.sync.schedule import RUN_TASK

SLUG = "instagram_business"
# Midnight in São Paulo, the generated accounts' zone; their histories begin in 2026-09.
SIM_START = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
FIRST_RUNS_SPREAD = timedelta(hours=1)
WINDOWS_EVERY = timedelta(days=7)
ACCOUNT_DAYS_EVERY = timedelta(days=28)
ARCHIVED_EVERY = (("windows", WINDOWS_EVERY), ("account_days", ACCOUNT_DAYS_EVERY))
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
BENCH_DATABASE = "metrics_connect_bench_fleet"
WORKERS = 2
EMULATOR_COMMAND = ("-m", "bench.fleet_processes", "emulator")
SECTION_START = "<!-- bench/fleet.py: start -->"
SECTION_END = "<!-- bench/fleet.py: end -->"
RESULTS = REPO / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="100,1000", help="fleet sizes, comma-separated")
    p.add_argument("--hours", default="24", help="simulated hours measured (per size)")
    p.add_argument(
        "--warmup-hours", default="6", help="simulated hours before measuring (per size)"
    )
    p.add_argument("--speed", default="240", help="simulated seconds per real one (per size)")
    p.add_argument("--latency-ms", type=float, default=20.0, help="emulator latency per call")
    p.add_argument("--worker-threads", type=int, default=16)
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("METRICS_CONNECT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("METRICS_CONNECT_BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    )
    p.add_argument("--output", type=Path, default=RESULTS / "fleet.json")
    p.add_argument("--no-record", action="store_true", help="leave BENCHMARKS.md alone")
    args = p.parse_args(argv)
    args.sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    for name in ("hours", "warmup_hours", "speed"):
        values = [float(v) for v in str(getattr(args, name)).split(",") if v.strip()]
        if len(values) == 1:
            values *= len(args.sizes)
        if len(values) != len(args.sizes):
            p.error(f"--{name.replace('_', '-')}: one value, or one per size")
        setattr(args, f"{name}_per_size", values)
    return args


def for_size(args: argparse.Namespace, index: int) -> argparse.Namespace:
    """The arguments of the index-th size: its own speed and hours."""
    return argparse.Namespace(
        **{
            **vars(args),
            "speed": args.speed_per_size[index],
            "hours": args.hours_per_size[index],
            "warmup_hours": args.warmup_hours_per_size[index],
        }
    )


# --- the fleet's database ------------------------------------------------------------


async def seed_fleet(database_url: str, key: str, size: int) -> None:
    """One merchant and customer, `size` integrations of generated accounts 1..size, each
    with its schedule row due in the first simulated hour, its weekly windows last
    archived on a day of the week before and its account days on one of the 28 days
    before."""
    upgrade(database_url)
    settings = Settings(database_url=database_url, credentials_key=key, sync_enabled=False)
    runtime = Runtime.from_settings(settings)
    try:
        async with runtime.db.session() as session:
            merchant = await create_merchant(session, runtime.vault, settings, "Fleet agency")
            customer = await create_customer(
                session, settings, merchant.record, "Fleet", is_paying=True
            )
            customer_id = customer.record.id
            await session.commit()
    finally:
        await runtime.stop()
    vault = vault_for_key(key)
    integrations = CustomerIntegration.__table__
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as conn:
            for first in range(1, size + 1, 1000):
                rows = []
                for number in range(first, min(size, first + 999) + 1):
                    account = fleet_account(number)
                    rows.append(
                        {
                            "uuid": str(uuid.uuid4()),
                            "customer_id": customer_id,
                            "slug": SLUG,
                            "source_name": account.source_name,
                            "external_id": account.external_id,
                            "status": "active",
                            "timezone": account.timezone,
                            "credentials_encrypted": vault.encrypt_json(account.credentials),
                            "connected_at": SIM_START,
                            "created_at": SIM_START,
                            "updated_at": SIM_START,
                        }
                    )
                conn.execute(insert(integrations), rows)
            ids = list(
                conn.execute(select(integrations.c.id).order_by(integrations.c.id)).scalars()
            )
            schedule = [
                {
                    "integration_id": integration_id,
                    "task": RUN_TASK,
                    "due_at": SIM_START + FIRST_RUNS_SPREAD * (i / size),
                    "runs": 0,
                }
                for i, integration_id in enumerate(ids)
            ]
            conn.execute(insert(SyncState.__table__), schedule)
            # A fleet already running archived its accounts' 30-day windows on some day
            # of the last week, and their 90 days of account metrics on some day of the
            # last four (each integration on its own day), not all at once now.
            archived = [
                {
                    "integration_id": row["integration_id"],
                    "task": task,
                    "cursor_at": SIM_START - every * ((i * 0.618034) % 1.0),
                    "last_run_at": SIM_START - every * ((i * 0.618034) % 1.0),
                    "runs": 0,
                }
                for task, every in ARCHIVED_EVERY
                for i, row in enumerate(schedule)
            ]
            conn.execute(insert(SyncState.__table__), archived)
    finally:
        engine.dispose()


# --- one size --------------------------------------------------------------------------


def worker_env(
    args: argparse.Namespace, database_url: str, key: str, emulator: str
) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {
        "METRICS_CONNECT_DATABASE_URL": database_url,
        "METRICS_CONNECT_CREDENTIALS_KEY": key,
        "METRICS_CONNECT_BROKER_URL": args.redis_url,
        "METRICS_CONNECT_SYNC_QUEUE_NAME": f"bench_fleet_sync_{suffix}",
        "METRICS_CONNECT_JOB_QUEUE_NAME": f"bench_fleet_jobs_{suffix}",
        "METRICS_CONNECT_INSTAGRAM_API_BASE_URL": emulator,
        "METRICS_CONNECT_SYNC_ENABLED": "true",
        # Real seconds: a poll of 0.2 s is 0.2 x speed simulated seconds of lag at most.
        "METRICS_CONNECT_SYNC_POLL_SECONDS": "0.2",
        "METRICS_CONNECT_SYNC_BATCH_SIZE": "50",
        "METRICS_CONNECT_SYNC_NETWORK_CONCURRENCY": str(args.worker_threads),
        # Simulated seconds: five real minutes.
        "METRICS_CONNECT_SYNC_LEASE_SECONDS": str(300 * args.speed),
        "METRICS_CONNECT_WORKER_THREADS": str(args.worker_threads),
        "METRICS_CONNECT_DATA_DIR": str(WORK_DIR / "data"),
        "METRICS_CONNECT_LOG_JSON": "true",
        "METRICS_CONNECT_LOG_LEVEL": "INFO",
    }


def _json_lines(path: Path, event: str) -> list[dict[str, Any]]:
    out = []
    needle = f'"event": "{event}"'
    for line in path.read_text(errors="replace").splitlines():
        if needle in line and line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def _stop(process: ServiceProcess) -> None:
    if process.popen.poll() is None:
        process.popen.send_signal(signal.SIGTERM)
    try:
        process.popen.wait(timeout=60)
    except Exception:
        process.popen.kill()
        process.popen.wait(timeout=10)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


async def run_size(args: argparse.Namespace, size: int, key: str) -> dict[str, Any]:
    print(f"fleet of {size}: seeding the database...", flush=True)
    database_url = reset_postgres_database(args.postgres_url, BENCH_DATABASE)
    await seed_fleet(database_url, key, size)
    # The simulated clock starts once the processes have had time to come up.
    sim = SimulatedClock(sim_start=SIM_START, real_start=time.time() + 15.0, speed=args.speed)
    warm_end = SIM_START + timedelta(hours=args.warmup_hours)
    end = warm_end + timedelta(hours=args.hours)
    port = free_port()
    emulator_url = f"http://127.0.0.1:{port}"
    emulator = start_process(
        "emulator",
        [*EMULATOR_COMMAND, "--port", str(port), "--latency-ms", str(args.latency_ms)],
        sim.to_env(),
        f"fleet-emulator-{size}.log",
    )
    workers: list[ServiceProcess] = []
    try:
        await wait_ready(f"{emulator_url}/__bench/calls", emulator)
        env = {**worker_env(args, database_url, key, emulator_url), **sim.to_env()}
        for index in range(WORKERS):
            workers.append(
                start_process(
                    "worker",
                    ["-m", "bench.fleet_processes", "worker"],
                    env,
                    f"fleet-worker-{size}-{index}.log",
                )
            )
        total = args.warmup_hours + args.hours
        print(
            f"  simulating {args.warmup_hours:g} h of warm-up and {args.hours:g} h measured at "
            f"{args.speed:g}x ({total * 3600 / args.speed:.0f} s)...",
            flush=True,
        )
        at_warm_end = await wait_until(sim, warm_end, [emulator, *workers], emulator_url)
        at_end = await wait_until(sim, end, [emulator, *workers], emulator_url)
        stopped_at = sim.now()
    finally:
        for process in workers:
            _stop(process)
        _stop(emulator)
    calls = {k: at_end[k] - at_warm_end[k] for k in ("http_requests", "endpoint_calls")}
    runs = [
        {**r, "worker": index}
        for index, w in enumerate(workers)
        for r in _json_lines(w.log_path, "sync_run")
    ]
    print(f"  {len(runs)} runs; checking the stories against the emulator...", flush=True)
    missed, expected = await missed_stories(database_url, runs, warm_end, stopped_at)
    return summarize(args, size, runs, calls, workers, (missed, expected), warm_end, stopped_at)


async def wait_until(
    sim: SimulatedClock, instant: datetime, processes: list[ServiceProcess], emulator_url: str
) -> dict[str, int]:
    """Sleep until the simulated clock shows `instant` (watching the processes); the
    emulator's call counters then."""
    while time.time() < sim.real_time_of(instant):
        for process in processes:
            if process.popen.poll() is not None:
                tail = process.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{process.role} exited:\n{tail}")
            process.sample_memory()
        await asyncio.sleep(min(1.0, max(0.0, sim.real_time_of(instant) - time.time())))
    async with httpx.AsyncClient(timeout=10) as http:
        counters: dict[str, int] = (await http.get(f"{emulator_url}/__bench/calls")).json()
    return counters


def summarize(
    args: argparse.Namespace,
    size: int,
    runs: list[dict[str, Any]],
    calls: dict[str, int],
    workers: list[ServiceProcess],
    stories: tuple[list[str], int],
    warm_end: datetime,
    stopped_at: datetime,
) -> dict[str, Any]:
    """Figures of the measured span (after the warm-up): runs due in it, calls made in
    it, stories that expired in it; and when the first pass over the fleet ended."""
    measured = [r for r in runs if datetime.fromisoformat(r["due_at"]) >= warm_end]
    lags = [float(r["lag_seconds"]) for r in measured]
    days = (stopped_at - warm_end).total_seconds() / 86400
    first_run: dict[int, datetime] = {}
    for r in runs:
        started = datetime.fromisoformat(r["started_at"])
        first_run[r["integration_id"]] = min(first_run.get(r["integration_id"], started), started)
    first_pass = (
        (max(first_run.values()) - SIM_START).total_seconds() if len(first_run) == size else None
    )
    missed, expected = stories
    return {
        "size": size,
        "speed": args.speed,
        "warmup_hours": args.warmup_hours,
        "measured_hours": round(days * 24, 2),
        "latency_ms": args.latency_ms,
        "worker_threads": args.worker_threads,
        "first_pass_s": first_pass,
        "runs": len(measured),
        "runs_per_worker": [sum(1 for r in measured if r["worker"] == i) for i in range(WORKERS)],
        "failed_runs": sum(1 for r in measured if not r.get("ok")),
        "throttled_runs": sum(1 for r in runs if r.get("error") == "upstream_rate_limited"),
        "max_usage_percent": max((r.get("usage_percent") or 0 for r in runs), default=0),
        "lost_leases": sum(1 for r in runs if not r.get("lease_kept")),
        "runs_per_integration_day": round(len(measured) / (size * days), 2),
        "upstream_calls": calls["http_requests"],
        "upstream_calls_per_integration_day": round(calls["http_requests"] / (size * days), 2),
        "graph_operations_per_integration_day": round(calls["endpoint_calls"] / (size * days), 2),
        "lag_p50_s": round(percentile(lags, 0.5), 1),
        "lag_p95_s": round(percentile(lags, 0.95), 1),
        "lag_p99_s": round(percentile(lags, 0.99), 1),
        "lag_max_s": round(max(lags), 1) if lags else None,
        "runs_per_real_second": round(len(measured) / (days * 86400 / args.speed), 2),
        "stories_expected": expected,
        "stories_missed": len(missed),
        "stories_missed_examples": missed[:5],
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        "peak_rss_mb": {
            f"worker {i}": round(max(w.peaks.values(), default=0.0), 1)
            for i, w in enumerate(workers)
        },
    }


async def missed_stories(
    database_url: str, runs: list[dict[str, Any]], warm_end: datetime, stopped_at: datetime
) -> tuple[list[str], int]:
    """Stories that expired in the measured span (and after their integration's first
    run) whose archived reach and views are not the final ones."""
    first_run: dict[int, datetime] = {}
    for r in runs:
        started = datetime.fromisoformat(r["started_at"])
        iid = int(r["integration_id"])
        first_run[iid] = min(first_run.get(iid, started), started)
    engine = create_engine(sync_url(database_url))
    integrations = CustomerIntegration.__table__
    stored: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    try:
        with engine.connect() as conn:
            accounts = dict(
                conn.execute(select(integrations.c.id, integrations.c.external_id)).all()
            )
            for iid, object_id, vals in conn.execute(
                select(fact_objects.c.integration_id, fact_objects.c.object_id, fact_objects.c.vals)
                .where(fact_objects.c.dataset == "stories")
                .execution_options(stream_results=True)
            ):
                stored[iid][object_id] = json.loads(vals)
    finally:
        engine.dispose()
    base = InstagramSandbox()
    missed: list[str] = []
    expected = 0
    for iid, external_id in accounts.items():
        number = int(external_id) - int(INSTAGRAM_USER_ID)
        account = fleet_sandbox(base, number)
        start = max(first_run.get(iid, warm_end), warm_end)
        for story in account.stories_posted(SIM_START - timedelta(days=1), stopped_at):
            expires = story.timestamp + timedelta(hours=24)
            if not start < expires <= stopped_at:
                continue
            expected += 1
            kept = stored[iid].get(story.id)
            final = story.final
            if kept is None or any(kept.get(m) != final[m] for m in ("reach", "views")):
                missed.append(f"integration {iid} story {story.id} expired {expires.isoformat()}")
    return missed, expected


# --- report ----------------------------------------------------------------------------


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] for r in results]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for key, label in (("lag_p50_s", "p50"), ("lag_p99_s", "p99"), ("lag_max_s", "max")):
        ax.plot(sizes, [r[key] / 60 for r in results], marker="o", label=f"lag {label}")
    ax.set_xscale("log")
    ax.set_yscale("log")  # minutes when it keeps up, hours when it does not
    ax.set_xlabel("integrations (sandbox Instagram accounts)")
    ax.set_ylabel("run start after its due time (simulated minutes)")
    speeds = ", ".join(f"{r['size']:,} at {r['speed']:g}x" for r in results)
    ax.set_title(f"Sync lag against fleet size (2 workers; {speeds})", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| integrations | lag p50 / p99 / max (sim.) | runs per integration-day "
        "| upstream calls per integration-day | stories missed / expected | runs per real s "
        "| runs per worker | first pass done after (sim.) | highest account usage "
        "| clock, warm-up + measured (sim.) | load average at the end |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {_duration(r['lag_p50_s'])} / {_duration(r['lag_p99_s'])} / "
            f"{_duration(r['lag_max_s'])} | {r['runs_per_integration_day']} "
            f"| {r['upstream_calls_per_integration_day']} "
            f"({r['graph_operations_per_integration_day']} Graph operations) "
            f"| {r['stories_missed']} / {r['stories_expected']} | {r['runs_per_real_second']} "
            f"| {' / '.join(str(n) for n in r['runs_per_worker'])} "
            f"| {'not done' if r['first_pass_s'] is None else _duration(r['first_pass_s'])} "
            f"| {r.get('max_usage_percent', '-')} % ({r.get('throttled_runs', 0)} runs throttled) "
            f"| {r['speed']:g}x, {r['warmup_hours']:g} h + {r['measured_hours']:.0f} h "
            f"| {r.get('load_average_at_end', '-')} |"
        )
    return lines


def _duration(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "-"
    if abs(seconds) < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def record(results: dict[str, Any], path: Path) -> None:
    """Replace this benchmark's section of BENCHMARKS.md (the figures' reading is in
    bench/analysis.md, under the load section)."""
    first = results["sizes"][0]
    m = results["machine"]
    lines = [
        SECTION_START,
        "## Fleet: the sync scheduler at scale (bench/fleet.py)",
        "",
        f"Run {m['at']} at commit `{m['commit']}` with `{results['command']}`: {m['nproc']} "
        f"cores, PostgreSQL + Redis, {WORKERS} worker processes of {first['worker_threads']} "
        f"threads, emulator latency {first['latency_ms']:g} ms per call; per size a simulated "
        "clock some times faster than real time, simulated hours of warm-up (the first pass "
        "over the fleet), then hours measured (table). Load average at the start "
        f"{m['load_average_at_start']}. How it works: [docs/benchmarks.md](docs/benchmarks.md).",
        "",
        "![sync lag against fleet size](bench/results/fleet_lag.png)",
        "",
        *table(results["sizes"]),
    ]
    lines += ["", SECTION_END]
    section = "\n".join(lines) + "\n"
    text_ = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(SECTION_START) + r".*?" + re.escape(SECTION_END) + r"\n?", re.S)
    if pattern.search(text_):
        text_ = pattern.sub(lambda _m: section, text_)
    else:
        text_ = text_.rstrip("\n") + "\n\n" + section
    path.write_text(text_)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if not (answers(args.postgres_url) and answers(args.redis_url)):
        raise SystemExit(f"the fleet bench needs PostgreSQL ({args.postgres_url}) and Redis")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    key = credentials_key()
    results: dict[str, Any] = {
        "command": ("bench/fleet.py " + " ".join(sys.argv[1:])).strip(),
        "machine": report.machine(),
        "sizes": [],
    }
    for index, size in enumerate(args.sizes):
        result = await run_size(for_size(args, index), size, key)
        results["sizes"].append(result)
        print(f"  {json.dumps(result)}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = asyncio.run(run(args))
    print("\n".join(table(results["sizes"])))
    report.write_json(results, args.output)
    plot(results["sizes"], RESULTS / "fleet_lag.png")
    print(f"\nJSON: {args.output}; plot: {RESULTS / 'fleet_lag.png'}")
    if not args.no_record:
        record(results, REPO / "BENCHMARKS.md")
        print("BENCHMARKS.md: fleet section updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
