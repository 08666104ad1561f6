"""One command for the whole benchmark (docs/benchmarks.md):

    .venv/bin/python bench/run.py            # full run (about 3 minutes after preparation)
    .venv/bin/python bench/run.py --quick    # short loads, for a smoke check

It prepares (once, then incrementally) a database with the demo tenant and its Instagram
archive, starts the Instagram emulator with a fixed latency per upstream call and the
API (`metrics-connect serve`) as processes on 127.0.0.1, measures cold, warm, throughput
(embedded; then PostgreSQL + Redis with two API processes when both answer), async
delivery and peak memory, prints a table, writes bench/results/latest.json and replaces
its own section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import threading
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report, scenarios
from bench.cpu import cpu_per_request
from bench.load import client
from bench.stack import (
    REPO,
    WORK_DIR,
    ChildMemorySampler,
    ServiceProcess,
    answers,
    copy_database,
    credentials_key,
    free_port,
    prepare_database,
    reset_postgres_database,
    service_env,
    sqlite_copy,
    start_api,
    start_sandbox,
    wait_ready,
)
from bench.widgets import demo_account_today
from metrics_connect.settings import Settings

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
BENCH_PG_DATABASE = "metrics_connect_bench"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--latency-ms", type=float, default=100.0, help="emulator latency per call")
    p.add_argument("--quick", action="store_true", help="short loads (smoke check)")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--seconds", type=float, default=None, help="per throughput load (20; quick 3)")
    p.add_argument("--warm-count", type=int, default=None, help="warm repetitions (200; quick 20)")
    p.add_argument("--jobs", type=int, default=None, help="async jobs (1000; quick 100)")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("METRICS_CONNECT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server for the distributed run (a database is created on it)",
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("METRICS_CONNECT_BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    )
    p.add_argument(
        "--full-fleet",
        action="store_true",
        help="bench/fleet.py at 100, 1,000 and 10,000 integrations, the last at 24x "
        "(default: 100 and 1,000 at 240x)",
    )
    p.add_argument("--skip-fleet", action="store_true")
    p.add_argument("--skip-distributed", action="store_true")
    p.add_argument("--skip-async", action="store_true")
    p.add_argument("--skip-history", action="store_true", help="no cost-against-history curve")
    p.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "latest.json")
    p.add_argument("--no-record", action="store_true", help="leave BENCHMARKS.md alone")
    args = p.parse_args(argv)
    args.seconds = args.seconds or (3.0 if args.quick else 20.0)
    args.warm_count = args.warm_count or (20 if args.quick else 200)
    args.jobs = args.jobs or (100 if args.quick else 1000)
    return args


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.processes: list[tuple[str, ServiceProcess]] = []
        self._sampling_done = threading.Event()
        self.results: dict[str, Any] = {
            "command": ("bench/run.py " + shlex.join(sys.argv[1:])).strip(),
            "latency_ms": args.latency_ms,
            "machine": report.machine(),
            "throughput": [],
            "memory": [],
            "skipped": [],
        }

    def track(self, mode: str, process: ServiceProcess) -> ServiceProcess:
        self.processes.append((mode, process))
        return process

    def _sample_memory(self) -> None:
        """Every process of every tracked tree, twice a second (workers may come and go)."""
        while not self._sampling_done.wait(0.5):
            for _mode, process in list(self.processes):
                process.sample_memory()

    def stop(self, mode: str, process: ServiceProcess) -> None:
        process.stop()
        for pid, peak in sorted(process.peaks.items()):
            role = process.role if pid == process.popen.pid else f"{process.role} child"
            self.results["memory"].append(
                {
                    "role": role,
                    "mode": mode,
                    "pid": pid,
                    "command": process.commands.get(pid, ""),
                    "peak_rss_mb": round(peak, 1),
                }
            )

    def skip(self, what: str, why: str) -> None:
        self.results["skipped"].append({"what": what, "why": why})
        print(f"  skipped {what}: {why}", flush=True)

    async def run(self) -> dict[str, Any]:
        args = self.args
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        key = credentials_key()
        template = WORK_DIR / "template.db"
        print("preparing the database (demo tenant + Instagram archive replay)...", flush=True)
        tenant = await prepare_database(f"sqlite:///{template}", key)
        if tenant.archive_error:
            self.results["archive_error"] = tenant.archive_error
            print(f"  archive replay incomplete: {tenant.archive_error}", flush=True)

        sandbox_port = free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        sandbox = self.track("emulator", start_sandbox(sandbox_port, args.latency_ms))
        sampler = threading.Thread(target=self._sample_memory, daemon=True)
        sampler.start()
        try:
            await wait_ready(f"{sandbox_url}/__bench/calls", sandbox)
            await self.embedded(tenant, key, template, sandbox_url)
            if args.skip_history:
                self.skip("history curve", "--skip-history")
            else:
                await self.history(template)
            if args.skip_distributed:
                self.skip("distributed throughput", "--skip-distributed")
            elif not (answers(args.postgres_url) and answers(args.redis_url)):
                self.skip(
                    "distributed throughput",
                    f"PostgreSQL ({args.postgres_url}) or Redis ({args.redis_url}) does not answer",
                )
            else:
                try:
                    await self.distributed(tenant, key, template, sandbox_url)
                except Exception as exc:  # reported; the embedded figures still stand
                    self.skip("distributed run", f"{type(exc).__name__}: {exc}"[:300])
        finally:
            self._sampling_done.set()
            sampler.join(timeout=5)
            for mode, process in self.processes:
                if process.popen.poll() is None:
                    self.stop(mode, process)
            self.results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return self.results

    async def embedded(self, tenant: Any, key: str, template: Path, sandbox_url: str) -> None:
        args = self.args
        # Its own file: benchmark runs at once must not share a database.
        own_name = f"run-embedded-{os.getpid()}.db"
        database_url = sqlite_copy(template, own_name)
        port = free_port()
        env = service_env(database_url, key, sandbox_url)
        api = self.track("embedded", start_api(port, env, 1, "api-embedded.log"))
        base_url = f"http://127.0.0.1:{port}"
        await wait_ready(f"{base_url}/readyz", api)
        today = demo_account_today()
        concurrency = Settings().fetch_concurrency
        async with client(base_url, max(args.concurrency, 8)) as http:
            print("1. cold: 87 widgets over 365 days with comparison...", flush=True)
            cold, answer = await scenarios.cold(
                http, tenant, sandbox_url, today, args.latency_ms, concurrency
            )
            self.results["cold"] = scenarios.as_json(cold)
            print(f"2. warm: the same request x {args.warm_count}...", flush=True)
            warm = await scenarios.warm(http, tenant, sandbox_url, today, args.warm_count, answer)
            self.results["warm"] = scenarios.as_json(warm)
            print(
                f"3. throughput (embedded): c={args.concurrency} for {args.seconds:.0f} s each: "
                "seed request, GET /healthz, GET /merchants/settings, GET /customer-integrations..."
            )
            run = await scenarios.throughput(
                http, tenant, "embedded", 1, args.concurrency, args.seconds
            )
            self.results["throughput"].append(scenarios.as_json(run))
        self.stop("embedded", api)
        self.processes.remove(("embedded", api))
        print("   CPU per request, in-process...", flush=True)
        own_db = WORK_DIR / own_name
        self.results["cpu_per_request"] = await cpu_per_request(50 if args.quick else 300, own_db)
        # Left as the warm database for bench/profile_request.py and bench/cpu.py.
        sqlite_copy(own_db, "run-embedded.db")
        if args.skip_async:
            self.skip("async delivery", "--skip-async")
        else:
            await self.async_jobs(None, None)
            await self.job_costs(None, None)

    async def history(self, template: Path) -> None:
        """bench/history.py in this process: cost of a 30-day dashboard against the
        archive's length, and its picture beside the JSON."""
        from bench.history import history_curve
        from bench.plot import plot_history

        print("5. history: a 30-day dashboard over 3 months to 3 years of archive...")
        history = await history_curve(template, repeat=3 if self.args.quick else 5)
        self.results["history"] = history
        plot = plot_history(history, self.args.output.parent / "history.svg")
        self.results["history_plot"] = os.path.relpath(plot, REPO)

    async def async_jobs(self, broker_url: str | None, database_url: str | None) -> None:
        """bench/async_jobs.py (the jobs part's own load tool): the API in this process,
        jobs computed in-process (embedded) or by two `metrics-connect worker` processes
        (distributed), whose peak memory is sampled meanwhile."""
        from bench import async_jobs

        mode = "distributed" if broker_url else "embedded"
        print(f"4. async ({mode}): {self.args.jobs} jobs to a local receiver...", flush=True)
        options = argparse.Namespace(
            jobs=self.args.jobs,
            broker=broker_url,
            workers=2,
            concurrency=16,
            submit_concurrency=32,
            database_url=database_url,
            timeout=300.0,
        )
        with ChildMemorySampler("metrics_connect.cli worker") as sampler:
            try:
                result = await async_jobs.run(options)
            except (Exception, SystemExit) as exc:  # reported; the other parts still count
                self.skip(f"async delivery ({mode})", f"{type(exc).__name__}: {exc}"[:300])
                return
        result["lost"] = result["accepted"] - result["delivered"]
        self.results.setdefault("async", []).append(result)
        for pid, peak in sorted(sampler.peaks.items()):
            self.results["memory"].append(
                {"role": "worker", "mode": mode, "pid": pid, "peak_rss_mb": round(peak, 1)}
            )

    async def job_costs(self, broker_url: str | None, database_url: str | None) -> None:
        """bench/job_costs.py: CPU and round trips per job (accepting, then the steps),
        which hold where the machine's load makes deliveries per second vary."""
        from bench import job_costs

        mode = "Dramatiq worker" if broker_url else "embedded"
        jobs = 50 if self.args.quick else 200
        print(f"4c. async job costs ({mode}): {jobs} jobs, CPU and round trips...", flush=True)
        options = argparse.Namespace(
            jobs=jobs, concurrency=16, database_url=database_url, broker=broker_url, profile=None
        )
        try:
            result = await job_costs.run(options)
        except (Exception, SystemExit) as exc:  # reported; the other parts still count
            self.skip(f"async job costs ({mode})", f"{type(exc).__name__}: {exc}"[:300])
            return
        self.results.setdefault("job_costs", []).append(result)

    async def distributed(self, tenant: Any, key: str, template: Path, sandbox_url: str) -> None:
        args = self.args
        print("3b. throughput (PostgreSQL + Redis, 2 API processes): copying the database...")
        database_url = reset_postgres_database(args.postgres_url, BENCH_PG_DATABASE)
        copy_database(f"sqlite:///{template}", database_url)
        port = free_port()
        env = service_env(database_url, key, sandbox_url, redis_url=args.redis_url)
        api = self.track("distributed", start_api(port, env, 2, "api-distributed.log"))
        base_url = f"http://127.0.0.1:{port}"
        await wait_ready(f"{base_url}/readyz", api)
        async with client(base_url, args.concurrency) as http:
            run = await scenarios.throughput(
                http, tenant, "postgres+redis", 2, args.concurrency, args.seconds
            )
            self.results["throughput"].append(scenarios.as_json(run))
        self.stop("distributed", api)
        self.processes.remove(("distributed", api))
        if not args.skip_async:
            jobs_database = reset_postgres_database(args.postgres_url, BENCH_PG_DATABASE + "_jobs")
            await self.async_jobs(args.redis_url, jobs_database)
            costs_database = reset_postgres_database(
                args.postgres_url, BENCH_PG_DATABASE + "_job_costs"
            )
            await self.job_costs(args.redis_url, costs_database)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = asyncio.run(Bench(args).run())
    print()
    print(report.table(results))
    report.write_json(results, args.output)
    print(f"\nJSON: {args.output}")
    if args.skip_fleet:
        print("fleet: skipped (--skip-fleet)")
    else:
        # The sync scheduler at scale: its own processes, table, plot and section.
        from bench import fleet

        # 10,000 at a tenth of the speed: the same load per real second as 1,000 at
        # 240x, and 11 simulated hours in 28 real minutes.
        full = ["--sizes", "100,1000,10000", "--speed", "240,240,24"]
        full += ["--warmup-hours", "6,6,3", "--hours", "24,24,8"]
        sizes = full if args.full_fleet else ["--sizes", "100,1000"]
        fleet.main([*sizes, *(["--no-record"] if args.no_record else [])])
    if not args.no_record:
        notes_path = REPO / "bench" / "analysis.md"
        notes = notes_path.read_text() if notes_path.exists() else ""
        report.record(results, REPO / "BENCHMARKS.md", notes)
        print("BENCHMARKS.md: section updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
