"""Profile one warm request in-process with pyinstrument (docs/benchmarks.md#profiling).

    .venv/bin/python bench/profile_request.py dashboard   # the 87-widget request
    .venv/bin/python bench/profile_request.py seed        # the seed request
    .venv/bin/python bench/profile_request.py dashboard --cold   # first request, empty cache

Warm: the database of the last embedded benchmark run (var/bench/run-embedded.db, already
warm), `--repeat` requests after one unprofiled warm-up. Cold: a copy of the prepared
template (var/bench/template.db) and one request, the emulator in-process at
`--latency-ms`. Prints pyinstrument's text report.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from pyinstrument import Profiler
from sqlalchemy import select

from bench.stack import SLUG, WORK_DIR, BenchTenant, credentials_key
from bench.widgets import dashboard_request, demo_account_today, seed_request
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.api.app import create_app
from metrics_connect.demo.seed import derived_token
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import build_sandbox
from metrics_connect.settings import Settings


async def main(which: str, repeat: int, cold: bool, latency_ms: float) -> None:
    source = WORK_DIR / ("template.db" if cold else "run-embedded.db")
    if not source.exists():
        raise SystemExit(f"run bench/run.py first (it leaves {source})")
    copy = WORK_DIR / f"profile-{os.getpid()}.db"
    shutil.copyfile(source, copy)
    key = credentials_key()
    url = f"sqlite:///{copy}"
    sandbox = build_sandbox(SLUG)
    sandbox.controls.switches.latency_seconds = latency_ms / 1000
    runtime = Runtime.from_settings(
        Settings(
            database_url=url,
            credentials_key=key,
            sync_enabled=False,
            log_level="WARNING",
            instagram_api_base_url="http://instagram.sandbox",
        )
    )
    runtime.upstream_transports[SLUG] = httpx.ASGITransport(app=sandbox.app)
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        async with runtime.db.session() as session:
            integration = await session.scalar(select(CustomerIntegration.uuid).limit(1))
        bench_tenant = BenchTenant(
            derived_token(key, "merchant"), derived_token(key, "customer"), str(integration)
        )
        today = demo_account_today()
        body = (
            dashboard_request(bench_tenant.integration, today)
            if which == "dashboard"
            else seed_request(bench_tenant.integration)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            if not cold:
                warmup = await http.post(
                    "/metrics/get-data", json=body, headers=bench_tenant.headers
                )
                warmup.raise_for_status()
            profiler = Profiler(async_mode="enabled")
            profiler.start()
            for _ in range(1 if cold else repeat):
                await http.post("/metrics/get-data", json=body, headers=bench_tenant.headers)
            profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("which", choices=["dashboard", "seed"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    asyncio.run(main(args.which, args.repeat, args.cold, args.latency_ms))
