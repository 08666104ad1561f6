"""Cost against history length: a 30-day dashboard of integrations whose archives reach
back 3 months to 3 years (docs/benchmarks.md#history).

    .venv/bin/python bench/history.py            # after bench/run.py prepared the template
    .venv/bin/python bench/history.py --quick

From the prepared template (the demo integration with its replayed Instagram archive,
about three years of stories, follower and audience snapshots), one copy per history
length keeps only the archive's last N days (VACUUMed: its size is then what N days of
one integration hold). Each copy serves the 87 predefined widgets over the account's last
30 whole days compared with the 30 before, with the emulator in-process and without
latency: once to fetch what the archive lacks (the same days for every copy), then
`--repeat` times with the engine's caches emptied before each, so that every repeat reads
its facts from the database. Per length: CPU per request of those reads (time.process_time,
which includes the database driver's thread), the statements each issues, the answer
(identical across lengths), and the database's size. Bytes per integration-year are the
slope of size against length.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import event, select

from bench.stack import SLUG, WORK_DIR, BenchTenant, credentials_key
from bench.widgets import dashboard_request
from metrics_connect import clock
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.api.app import create_app
from metrics_connect.demo.seed import derived_token
from metrics_connect.engine.days import account_today
from metrics_connect.engine.service import engine_for
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.accounts import INSTAGRAM_TIMEZONE
from metrics_connect.sandbox.registry import build_sandbox
from metrics_connect.settings import Settings

HISTORY_DAYS = (90, 365, 730, 1095)  # 3 months to 3 years
DASHBOARD_DAYS = 30
# The cost of the longest history over the shortest's: flat, within the noise of a
# shared machine.
TARGET_GROWTH = 1.25
# Tables whose rows are kept per day (the archive): what a shorter history drops.
DAY_TABLES = ("fact_rows", "fact_objects", "fact_coverage")
FACT_TABLES = (*DAY_TABLES, "fact_periods")


def truncated_copy(template: Path, target: Path, days: int, today: date) -> int:
    """A copy of `template` keeping the last `days` days of every archive; its size in
    bytes after VACUUM."""
    with contextlib.closing(sqlite3.connect(template)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copy must hold every write
    shutil.copyfile(template, target)
    oldest = (today - timedelta(days=days - 1)).isoformat()
    with contextlib.closing(sqlite3.connect(target)) as conn:
        with conn:
            for table in DAY_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE day < ?", (oldest,))
            conn.execute("DELETE FROM fact_periods WHERE start < ?", (oldest,))
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return target.stat().st_size


def archived_days(path: Path) -> int:
    """Days from the oldest archived day to the newest, in the copy."""
    with sqlite3.connect(path) as conn:
        first, last = conn.execute("SELECT min(day), max(day) FROM fact_rows").fetchone()
    if first is None:
        return 0
    return (date.fromisoformat(last) - date.fromisoformat(first)).days + 1


async def measure(
    database: Path, key: str, sandbox: Any, today: date, repeat: int
) -> dict[str, Any]:
    """The 30-day dashboard on one copy: fetched once, then read `repeat` times."""
    runtime = Runtime.from_settings(
        Settings(
            database_url=f"sqlite:///{database}",
            credentials_key=key,
            sync_enabled=False,
            log_level="WARNING",
            instagram_api_base_url="http://instagram.sandbox",
        )
    )
    runtime.upstream_transports[SLUG] = httpx.ASGITransport(app=sandbox.app)
    app = create_app(runtime=runtime)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The fact tables' reads (the store's version check runs at most twice a second,
        # and so a variable number of times).
        if any(table in statement for table in FACT_TABLES):
            statements.append(statement)

    async with app.router.lifespan_context(app):
        async with runtime.db.session() as session:
            integration = await session.scalar(select(CustomerIntegration.uuid).limit(1))
        tenant = BenchTenant(
            derived_token(key, "merchant"), derived_token(key, "customer"), str(integration)
        )
        body = dashboard_request(tenant.integration, today, DASHBOARD_DAYS)
        engine = engine_for(runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

            async def post() -> httpx.Response:
                response = await http.post("/metrics/get-data", json=body, headers=tenant.headers)
                response.raise_for_status()
                return response

            await post()  # fetches what the archive lacks: the same for every copy
            event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", count)
            cpu: list[float] = []
            answer: dict[str, Any] = {}
            for _ in range(repeat):
                engine.answers.clear()
                engine.store.forget_reads()
                statements.clear()
                began = time.process_time()
                answer = (await post()).json()
                cpu.append((time.process_time() - began) * 1000)
            event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    failed = sorted(w for w, v in answer.items() if isinstance(v, dict) and "error" in v)
    return {
        # The least of the repeats: the machine's other load only ever adds to it.
        "cpu_ms": min(cpu),
        "cpu_ms_median": statistics.median(cpu),
        "fact_statements": len(statements),
        "failed_widgets": failed,
        "answer": answer,
    }


async def history_curve(
    template: Path,
    lengths: Sequence[int] = HISTORY_DAYS,
    repeat: int = 5,
    today: date | None = None,
) -> dict[str, Any]:
    """Per history length: CPU per request, statements, size; and their growth."""
    key = credentials_key()
    # One instant for the service and the emulator through every copy: the account's
    # current day changes through the day, and the answers must not.
    instant = datetime.now(UTC)
    today = today or account_today(instant, INSTAGRAM_TIMEZONE)
    sandbox = build_sandbox(SLUG)
    sandbox.controls.switches.latency_seconds = 0.0
    sandbox.controls.clock.set(instant)
    clock.set_clock(lambda: instant)
    points: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    try:
        for days in lengths:
            copy = WORK_DIR / f"history-{days}-{os.getpid()}.db"
            try:
                size = truncated_copy(template, copy, days, today)
                held = archived_days(copy)
                result = await measure(copy, key, sandbox, today, repeat)
            finally:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{copy}{suffix}").unlink(missing_ok=True)
            answers.append(result.pop("answer"))
            points.append({"history_days": days, "archived_days": held, "db_bytes": size, **result})
    finally:
        clock.set_clock(None)
    return summarize(points, answers, repeat)


def summarize(
    points: list[dict[str, Any]], answers: list[dict[str, Any]], repeat: int
) -> dict[str, Any]:
    first, last = points[0], points[-1]
    years = (last["archived_days"] - first["archived_days"]) / 365.25
    return {
        "dashboard_days": DASHBOARD_DAYS,
        "repeat": repeat,
        "points": points,
        "same_answer": all(a == answers[0] for a in answers),
        "differing_widgets": sorted(
            {w for a in answers[1:] for w in a if a[w] != answers[0].get(w)}
        ),
        "cpu_growth": last["cpu_ms"] / first["cpu_ms"] if first["cpu_ms"] else None,
        "statements_equal": len({p["fact_statements"] for p in points}) == 1,
        "bytes_per_integration_year": (
            (last["db_bytes"] - first["db_bytes"]) / years if years > 0 else None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats (5 otherwise)")
    parser.add_argument("--template", type=Path, default=WORK_DIR / "template.db")
    parser.add_argument("--plot", type=Path, default=None, help="write the curve (SVG or PNG)")
    args = parser.parse_args()
    if not args.template.exists():
        raise SystemExit(f"run bench/run.py first (it prepares {args.template})")
    result = asyncio.run(history_curve(args.template, repeat=3 if args.quick else 5))
    if args.plot:
        from bench.plot import plot_history

        plot_history(result, args.plot)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
