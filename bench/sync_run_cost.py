"""What one scheduled sync run costs the worker: CPU and database statements per run.

    .venv/bin/python bench/sync_run_cost.py --integrations 20 --hours 30

Seeds a fleet database as bench/fleet.py does (N generated Instagram accounts on
PostgreSQL), then plays the schedule on a simulated clock in one process: it jumps the
clock to the next due time, claims what is due and runs each claim as a worker would
(sync.runner.run_claim), one at a time. The emulator answers in-process and without
latency; its CPU is measured apart (around each HTTP exchange) and left out, so the
figures are the worker's own: CPU per run (process time) and statements per run, split
by the run's kind (first runs; the runs that took the day's snapshots or the weekly
windows; the rest, story captures), and the statements by table.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/sync_run_cost.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import event

from bench.fleet import SIM_START, seed_fleet
from bench.stack import credentials_key, reset_postgres_database
from metrics_connect import clock
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from metrics_connect.sync import schedule
from metrics_connect.sync.runner import run_claim

BENCH_DATABASE = "metrics_connect_bench_run_cost"
BASE_URL = "http://graph.bench"
TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.I)


class TimedTransport(httpx.AsyncBaseTransport):
    """The in-process emulator, with the CPU it spends counted apart."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.cpu = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.process_time()
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.cpu += time.process_time() - started


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--integrations", type=int, default=20)
    p.add_argument("--hours", type=float, default=30.0, help="simulated hours played")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "METRICS_CONNECT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    p.add_argument("--profile", type=Path, help="write the runs' cProfile stats here")
    p.add_argument("--json", type=Path, help="write the figures here")
    return p.parse_args()


def kind_of(outcome_log: dict[str, Any], first: bool) -> str:
    if first:
        return "first run"
    if outcome_log["windows"]:
        return "with windows"
    if outcome_log["snapshots"]:
        return "with snapshots"
    return "capture"


async def play(args: argparse.Namespace) -> dict[str, Any]:
    key = credentials_key()
    database_url = reset_postgres_database(args.postgres_url, BENCH_DATABASE)
    await seed_fleet(database_url, key, args.integrations)
    network = build_sandbox()
    sim = {"now": SIM_START}
    network.controls.clock.set(SIM_START)
    network.fleet.usage_clock = lambda: sim["now"].timestamp()
    clock.set_clock(lambda: sim["now"])
    settings = Settings(
        database_url=database_url,
        credentials_key=key,
        instagram_api_base_url=BASE_URL,
        sync_enabled=False,
    )
    runtime = Runtime.from_settings(settings)
    transport = TimedTransport(network.app)
    runtime.upstream_transports["instagram_business"] = transport
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_a: Any) -> None:
        statements.append(sql)

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    end = SIM_START + timedelta(hours=args.hours)
    seen: set[int] = set()
    per_kind: dict[str, list[tuple[float, int]]] = defaultdict(list)
    emulator_cpu: dict[str, float] = defaultdict(float)
    by_table: Counter[str] = Counter()
    profiler = cProfile.Profile() if args.profile else None
    try:
        while True:
            due = await schedule.next_due_at(runtime.db, ["instagram_business"])
            if due is None or due >= end:
                break
            sim["now"] = max(sim["now"], due)
            network.controls.clock.set(sim["now"])
            claims = await schedule.claim_due(
                runtime.db, ["instagram_business"], sim["now"], 50, 3600
            )
            for claim in claims:
                states_before = await _task_cursors(runtime, claim.integration_id)
                statements.clear()
                emulator_before = transport.cpu
                started = time.process_time()
                if profiler:
                    profiler.enable()
                await run_claim(runtime, claim)
                if profiler:
                    profiler.disable()
                cpu = time.process_time() - started - (transport.cpu - emulator_before)
                ran = list(statements)
                states_after = await _task_cursors(runtime, claim.integration_id)
                changed = {
                    task: states_after.get(task) != states_before.get(task)
                    for task in ("snapshots", "windows")
                }
                kind = kind_of(changed, claim.integration_id not in seen)
                seen.add(claim.integration_id)
                per_kind[kind].append((cpu, len(ran)))
                emulator_cpu[kind] += transport.cpu - emulator_before
                by_table.update(_statement_kind(s) for s in ran)
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", count)
        await runtime.stop()
        clock.set_clock(None)
    if profiler and args.profile:
        profiler.dump_stats(str(args.profile))
        pstats.Stats(str(args.profile)).sort_stats("cumulative").print_stats(40)
    runs = sum(len(v) for v in per_kind.values())
    figures = {
        "integrations": args.integrations,
        "simulated_hours": args.hours,
        "runs": runs,
        "kinds": {
            kind: {
                "runs": len(v),
                "cpu_ms_per_run": round(1000 * sum(c for c, _ in v) / len(v), 2),
                "statements_per_run": round(sum(n for _, n in v) / len(v), 2),
                "emulator_cpu_ms_per_run": round(1000 * emulator_cpu[kind] / len(v), 2),
            }
            for kind, v in sorted(per_kind.items())
        },
        "after_first": _after_first(per_kind),
        "statements_by_kind": dict(by_table.most_common()),
    }
    return figures


def _after_first(per_kind: dict[str, list[tuple[float, int]]]) -> dict[str, float]:
    rest = [r for kind, v in per_kind.items() if kind != "first run" for r in v]
    if not rest:
        return {}
    return {
        "runs": len(rest),
        "cpu_ms_per_run": round(1000 * sum(c for c, _ in rest) / len(rest), 2),
        "statements_per_run": round(sum(n for _, n in rest) / len(rest), 2),
    }


def _statement_kind(sql: str) -> str:
    verb = sql.lstrip().split(None, 1)[0].upper()
    found = TABLE.search(sql)
    return f"{verb} {found.group(1) if found else ''}".strip()


async def _task_cursors(runtime: Runtime, integration_id: int) -> dict[str, datetime | None]:
    from sqlalchemy import select

    from metrics_connect.sync.models import SyncState

    table = SyncState.__table__
    async with runtime.db.engine.connect() as conn:
        rows = await conn.execute(
            select(table.c.task, table.c.cursor_at).where(table.c.integration_id == integration_id)
        )
        return {str(task): cursor for task, cursor in rows}


def main() -> int:
    args = parse_args()
    figures = asyncio.run(play(args))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
