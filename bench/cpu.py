"""CPU per request, in-process: the app on an in-process transport over a copy of the
warm embedded database, `time.process_time()` around N sequential requests. Unlike the
wall-clock figures it hardly moves with other load on the machine. It includes the
in-process client's own work (a fraction of a millisecond per request)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.stack import WORK_DIR, BenchTenant, credentials_key
from bench.widgets import dashboard_request, demo_account_today, seed_request
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.api.app import create_app
from metrics_connect.demo.seed import derived_token
from metrics_connect.settings import Settings


async def cpu_per_request(count: int, source: Path | None = None) -> dict[str, Any]:
    """`source`: a warm database (default: the last embedded run's)."""
    copy = WORK_DIR / f"cpu-{os.getpid()}.db"
    shutil.copyfile(source or WORK_DIR / "run-embedded.db", copy)
    key = credentials_key()
    app = create_app(
        settings=Settings(
            database_url=f"sqlite:///{copy}",
            credentials_key=key,
            sync_enabled=False,
            log_level="WARNING",
        )
    )
    out: dict[str, Any] = {"requests_each": count}
    async with app.router.lifespan_context(app):
        async with app.state.runtime.db.session() as session:
            integration = await session.scalar(select(CustomerIntegration.uuid).limit(1))
        tenant = BenchTenant(
            derived_token(key, "merchant"), derived_token(key, "customer"), str(integration)
        )
        today = demo_account_today()
        cases: dict[str, tuple[str, str, dict[str, Any]]] = {
            "healthz": ("GET", "/healthz", {}),
            "seed request": (
                "POST",
                "/metrics/get-data",
                {"json": seed_request(tenant.integration), "headers": tenant.headers},
            ),
            "GET /merchants/settings": ("GET", "/merchants/settings", {"headers": tenant.headers}),
            "GET /customer-integrations": (
                "GET",
                "/customer-integrations",
                {"headers": tenant.headers},
            ),
            "87-widget dashboard (warm)": (
                "POST",
                "/metrics/get-data",
                {
                    "json": dashboard_request(tenant.integration, today),
                    "headers": tenant.headers,
                },
            ),
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for name, (method, path, kwargs) in cases.items():
                (await http.request(method, path, **kwargs)).raise_for_status()  # warm-up
                cpu, wall = time.process_time(), time.perf_counter()
                for _ in range(count):
                    (await http.request(method, path, **kwargs)).raise_for_status()
                out[name] = {
                    "cpu_ms": (time.process_time() - cpu) / count * 1000,
                    "wall_ms": (time.perf_counter() - wall) / count * 1000,
                }
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return out
