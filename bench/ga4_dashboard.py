"""Benchmark (not a test): the cold GA4 dashboard, its 72 predefined widgets over 60 days
and a comparison, through POST /metrics/get-data (issue 21's row).

Runs the service in-process (FastAPI over httpx.ASGITransport, SQLite in a temporary
folder) against the in-process GA4 emulator of the demo property, with a fixed latency
per upstream call, on an empty fact store, twice: with the connector's shared reports
and batches, and with every fetch its own runReport (the path before). Reports per
mode: HTTP calls by endpoint (the emulator's counter), the property tokens consumed
(the emulator's quota and the X-Upstream-Quota header), the wall time and the widgets
that failed.

    .venv/bin/python bench/ga4_dashboard.py [--latency-ms 100] [--days 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

if __package__ in (None, ""):  # `python bench/ga4_dashboard.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics_connect import clock
from metrics_connect.accounts import service
from metrics_connect.api.app import create_app
from metrics_connect.connectors.base import Connector
from metrics_connect.db.migrate import upgrade
from metrics_connect.networks.google_analytics_4.connector.hooks import (
    GoogleAnalytics4Connector,
)
from metrics_connect.networks.google_analytics_4.emulator import report as emulator_report
from metrics_connect.networks.google_analytics_4.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

REFERENCE = Path("/work/shared/reference/reportei-connect/google_analytics_4/metrics.json")
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 12:00 in Sao Paulo, the property's zone


def dashboard() -> list[dict[str, Any]]:
    widgets = json.loads(REFERENCE.read_text())["metrics"]
    return [dict(w, id=f"w{i}") for i, w in enumerate(widgets)]


async def cold(shared: bool, latency_ms: float, days: int) -> dict[str, Any]:
    # The emulator's caches are per process: emptied, so each mode starts as cold.
    emulator_report.clear_caches()
    folder = Path(tempfile.mkdtemp(prefix="mc-bench-ga4-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        data_dir=folder,
        credentials_key=Fernet.generate_key().decode(),
        log_level="WARNING",
        sync_enabled=False,
        google_analytics_4_api_base_url="http://ga4.bench",
        request_time_budget_seconds=600.0,
    )
    network = build_sandbox()
    network.controls.clock.set(NOW)
    network.controls.switches.latency_seconds = latency_ms / 1000
    clock.set_clock(lambda: NOW)
    original = GoogleAnalytics4Connector.shared_groups
    if not shared:  # the path before: every fetch alone
        GoogleAnalytics4Connector.shared_groups = Connector.shared_groups  # type: ignore[method-assign]
    try:
        runtime = Runtime.from_settings(settings)
        runtime.upstream_transports["google_analytics_4"] = httpx.ASGITransport(app=network.app)
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
                    slug="google_analytics_4",
                    source_name=account.source_name,
                    external_id=account.external_id,
                    credentials=dict(account.credentials),
                    timezone=account.timezone,
                )
                await session.commit()
            headers = {
                "Authorization": f"Bearer {merchant.token}",
                "x-customer-token": customer.token,
            }
            end = NOW.date() - timedelta(days=1)
            start = end - timedelta(days=days - 1)
            body = {
                "customer_integration": integration.uuid,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "comparison_start": (start - timedelta(days=days)).isoformat(),
                "comparison_end": (start - timedelta(days=1)).isoformat(),
                "metrics": dashboard(),
            }
            quota = network.emulator.property_quota
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                network.controls.calls.reset()
                tokens_before = quota.buckets["tokensPerDay"].used
                began = time.perf_counter()
                response = await client.post("/metrics/get-data", json=body, headers=headers)
                wall = time.perf_counter() - began
                response.raise_for_status()
                answer = response.json()
    finally:
        GoogleAnalytics4Connector.shared_groups = original  # type: ignore[method-assign]
        clock.set_clock(None)
    failed = sorted({v["error"]["code"] for v in answer.values() if "error" in v})
    return {
        "mode": "shared reports, batches of 5" if shared else "one runReport per fetch",
        "widgets": len(body["metrics"]),
        "period_days": days,
        "http_calls": network.controls.calls.total,
        "calls_by_endpoint": dict(network.controls.calls.by_endpoint),
        "tokens": quota.buckets["tokensPerDay"].used - tokens_before,
        "tokens_header": response.headers.get("X-Upstream-Quota"),
        "wall_s": round(wall, 2),
        "widgets_failed": sum(1 for v in answer.values() if "error" in v),
        "failure_codes": failed,
    }


async def run(latency_ms: float, days: int) -> dict[str, Any]:
    return {
        "latency_ms": latency_ms,
        "shared": await cold(True, latency_ms, days),
        "alone": await cold(False, latency_ms, days),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    result = asyncio.run(run(args.latency_ms, args.days))
    print(json.dumps(result, indent=2))
    out = Path(__file__).resolve().parent / "results" / "ga4_dashboard.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
