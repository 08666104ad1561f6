"""Benchmark (not a test): the 87-widget Instagram dashboard through POST /metrics/get-data.

Runs the whole service in-process (FastAPI app over httpx.ASGITransport, SQLite in a
temporary folder) against the in-process Instagram emulator, and reports:
- cold latency and upstream calls (empty fact store),
- warm latency p50/p95 over repeated requests (0 upstream calls expected),
- the seed request's throughput (one widget, warm), sequential and concurrent.

    .venv/bin/python bench/engine_dashboard.py [--warm 50] [--seed 500] [--days 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from metrics_connect import clock
from metrics_connect.accounts import service
from metrics_connect.api.app import create_app
from metrics_connect.db.migrate import upgrade
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

REFERENCE = Path(__file__).resolve().parent.parent / "tests/catalog/reference/metrics.json"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def dashboard() -> list[dict[str, Any]]:
    widgets = json.loads(REFERENCE.read_text())["metrics"]
    return [dict(w, id=f"w{i}") for i, w in enumerate(widgets)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(warm_runs: int, seed_runs: int, days: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="mc-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        data_dir=folder,
        credentials_key=Fernet.generate_key().decode(),
        log_level="WARNING",
        sync_enabled=False,
        instagram_api_base_url="http://graph.bench",
    )
    network = build_sandbox()
    network.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["instagram_business"] = httpx.ASGITransport(app=network.app)
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        async with runtime.db.session() as session:
            merchant = await service.create_merchant(
                session,
                runtime.vault,
                settings,
                "Bench",
                rate_limit_per_second=10**6,
                rate_limit_per_minute=10**8,
            )
            customer = await service.create_customer(
                session, settings, merchant.record, "Bench customer", is_paying=True
            )
            account = network.demo_account
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
        end = NOW.date()
        start = end - timedelta(days=days - 1)
        body = {
            "customer_integration": integration.uuid,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "comparison_start": (start - timedelta(days=days)).isoformat(),
            "comparison_end": (start - timedelta(days=1)).isoformat(),
            "metrics": dashboard(),
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def post(payload: dict[str, Any]) -> float:
                began = time.perf_counter()
                response = await client.post("/metrics/get-data", json=payload, headers=headers)
                elapsed = time.perf_counter() - began
                response.raise_for_status()
                return elapsed

            network.controls.calls.reset()
            cold = await post(body)
            cold_calls = network.controls.calls.total
            cold_by_endpoint = dict(network.controls.calls.by_endpoint)
            network.controls.calls.reset()
            warm = [await post(body) for _ in range(warm_runs)]
            warm_calls = network.controls.calls.total

            seed = {
                "customer_integration": integration.uuid,
                "start": end.isoformat(),
                "end": end.isoformat(),
                "metrics": [
                    {
                        "id": "w1",
                        "reference_key": "ig:story_replies",
                        "component": "number_v1",
                        "metrics": ["replies"],
                        "dimensions": ["stories"],
                    }
                ],
            }
            await post(seed)
            began = time.perf_counter()
            for _ in range(seed_runs):
                await post(seed)
            sequential = seed_runs / (time.perf_counter() - began)
            began = time.perf_counter()
            await asyncio.gather(*(post(seed) for _ in range(seed_runs)))
            concurrent = seed_runs / (time.perf_counter() - began)
    clock.set_clock(None)
    return {
        "widgets": len(body["metrics"]),
        "period_days": days,
        "cold_ms": round(cold * 1000, 1),
        "cold_upstream_calls": cold_calls,
        "cold_calls_by_endpoint": cold_by_endpoint,
        "warm_runs": warm_runs,
        "warm_p50_ms": round(statistics.median(warm) * 1000, 1),
        "warm_p95_ms": round(percentile(warm, 0.95) * 1000, 1),
        "warm_upstream_calls": warm_calls,
        "seed_sequential_rps": round(sequential, 1),
        "seed_concurrent_rps": round(concurrent, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--seed", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.warm, args.seed, args.days)), indent=2))


if __name__ == "__main__":
    main()
