"""CPU and round trips per request, in-process, with concurrent clients: the seed
request (or GET /healthz, GET /customer-integrations) on the warm embedded database
(SQLite, in-memory limiter) or on a PostgreSQL copy of it with Redis, as
`bench/run.py`'s two throughput setups serve it.

    .venv/bin/python bench/seed_costs.py                            # SQLite
    .venv/bin/python bench/seed_costs.py --postgres-url postgresql://127.0.0.1/postgres \\
        --redis-url redis://127.0.0.1:6379/15                       # PostgreSQL + Redis

CPU is the process's (`time.process_time()`, the in-process client included) per
request; round trips are counted at the drivers (bench/job_costs.py's `counting`).
Needs a `bench/run.py` run first (its warm database, var/bench/run-embedded.db).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from redis.asyncio.connection import AbstractConnection as AsyncConnection
from sqlalchemy import select

from bench.job_costs import Counts, counting
from bench.stack import (
    WORK_DIR,
    BenchTenant,
    copy_database,
    credentials_key,
    reset_postgres_database,
)
from bench.widgets import seed_request
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.api.app import create_app
from metrics_connect.demo.seed import derived_token
from metrics_connect.settings import Settings

PG_DATABASE = "metrics_connect_bench_seed_costs"


@contextmanager
def redis_sends(counts: Counts) -> Iterator[None]:
    """redis-py's asyncio client (the limiter's, the auth cache's): one write per
    command or script call, one round trip."""
    original = AsyncConnection.send_packed_command

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts.add("redis round trips")
        return original(self, *args, **kwargs)

    AsyncConnection.send_packed_command = counted  # type: ignore[method-assign]
    try:
        yield
    finally:
        AsyncConnection.send_packed_command = original  # type: ignore[method-assign]


def _database(args: argparse.Namespace) -> str:
    warm = WORK_DIR / "run-embedded.db"
    if not warm.exists():
        raise SystemExit(f"run bench/run.py first (it leaves {warm})")
    if args.postgres_url:
        if args.reuse:  # the copy a previous run left
            return args.postgres_url.rsplit("/", 1)[0] + "/" + PG_DATABASE
        url = reset_postgres_database(args.postgres_url, PG_DATABASE)
        copy_database(f"sqlite:///{warm}", url)
        return url
    copy = WORK_DIR / f"seed-costs-{os.getpid()}.db"
    shutil.copyfile(warm, copy)
    return f"sqlite:///{copy}"


async def measure(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    key = credentials_key()
    settings = Settings(
        database_url=database_url,
        redis_url=args.redis_url if args.postgres_url else None,
        credentials_key=key,
        sync_enabled=False,
        log_level="WARNING",
    )
    app = create_app(settings=settings)
    out: dict[str, Any] = {
        "database": "postgresql" if args.postgres_url else "sqlite",
        "redis": bool(settings.redis_url),
        "concurrency": args.concurrency,
        "requests": args.requests,
    }
    async with app.router.lifespan_context(app):
        async with app.state.runtime.db.session() as session:
            integration = await session.scalar(select(CustomerIntegration.uuid).limit(1))
        tenant = BenchTenant(
            derived_token(key, "merchant"), derived_token(key, "customer"), str(integration)
        )
        cases: dict[str, tuple[str, str, dict[str, Any]]] = {
            "seed": (
                "POST",
                "/metrics/get-data",
                {"json": seed_request(tenant.integration), "headers": tenant.headers},
            ),
            "healthz": ("GET", "/healthz", {}),
            "customer-integrations": (
                "GET",
                "/customer-integrations",
                {"headers": tenant.headers},
            ),
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for name in args.which:
                method, path, kwargs = cases[name]
                for _ in range(20):  # warm-up: caches filled, scripts loaded
                    (await http.request(method, path, **kwargs)).raise_for_status()
                left = args.requests
                counts = Counts()
                counts.phase = name

                async def client(method: str, path: str, kwargs: dict[str, Any]) -> None:
                    nonlocal left
                    while left > 0:
                        left -= 1
                        answer = await http.request(method, path, **kwargs)
                        answer.raise_for_status()

                with counting(counts), redis_sends(counts):
                    cpu = time.process_time()
                    clients = (client(method, path, kwargs) for _ in range(args.concurrency))
                    await asyncio.gather(*clients)
                    cpu = time.process_time() - cpu
                counted = counts.by_phase.get(name, {})
                per = {k: round(v / args.requests, 3) for k, v in counted.items()}
                out[name] = {"cpu_ms": round(cpu / args.requests * 1000, 3), **per}
    if database_url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(database_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres-url", default=None, help="server for a PostgreSQL copy")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--reuse", action="store_true", help="the PostgreSQL copy left before")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--which", nargs="+", default=["seed", "healthz"], help="seed healthz customer-integrations"
    )
    args = parser.parse_args()
    database_url = _database(args)
    print(json.dumps(asyncio.run(measure(args, database_url)), indent=1))


if __name__ == "__main__":
    main()
