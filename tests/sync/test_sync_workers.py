"""With a broker, the sync runs in `metrics-connect worker` processes: each runs a
scheduler, claims go through the task queue, and two workers share the fleet's runs
without ever running one integration twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from metrics_connect.networks.instagram_business.emulator.fleet import fleet_account
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from metrics_connect.sync.models import SyncState
from metrics_connect.sync.schedule import RUN_TASK
from tests.conftest import REDIS_URL, connect_account
from tests.jobs.receiver import serve_in_thread

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="needs METRICS_CONNECT_TEST_REDIS_URL"),
]

ACCOUNTS = 8


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    """The Instagram emulator (its many accounts) on loopback, on real time. Each call
    takes 0.1 s: a run lasts about half a second, long enough that both workers' claims of
    two take part."""
    network = build_sandbox()
    network.controls.switches.latency_seconds = 0.1
    server, thread, port = serve_in_thread(network.app)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def queue_names() -> Iterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:12]
    names = (f"test_sync_{suffix}", f"test_jobs_{suffix}")
    yield names
    assert REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{suffix}*"):
        client.delete(key)
    client.close()


def _events(log: Path, event: str) -> list[dict[str, object]]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and f'"{event}"' in line:
            record = json.loads(line)
            if record.get("event") == event:
                out.append(record)
    return out


# Two worker processes on one database need PostgreSQL: only the PostgreSQL backend.
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_two_workers_share_the_sync_and_never_run_one_integration_twice(
    db_url: str,
    settings: Settings,
    runtime: Runtime,
    sandbox_url: str,
    queue_names: tuple[str, str],
    tmp_path: Path,
) -> None:
    assert REDIS_URL
    sync_queue, job_queue = queue_names
    env = {
        "METRICS_CONNECT_DATABASE_URL": db_url,
        "METRICS_CONNECT_CREDENTIALS_KEY": str(settings.credentials_key),
        "METRICS_CONNECT_DATA_DIR": str(settings.data_dir),
        "METRICS_CONNECT_BROKER_URL": REDIS_URL,
        "METRICS_CONNECT_SYNC_QUEUE_NAME": sync_queue,
        "METRICS_CONNECT_JOB_QUEUE_NAME": job_queue,
        "METRICS_CONNECT_INSTAGRAM_API_BASE_URL": sandbox_url,
        "METRICS_CONNECT_SYNC_ENABLED": "true",
        "METRICS_CONNECT_SYNC_POLL_SECONDS": "0.2",
        # Small claims, so that both schedulers take part.
        "METRICS_CONNECT_SYNC_BATCH_SIZE": "2",
        "METRICS_CONNECT_LOG_JSON": "true",
    }
    logs = [tmp_path / "worker-0.log", tmp_path / "worker-1.log"]
    workers = []
    for log_path in logs:
        with log_path.open("wb") as log:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "metrics_connect.cli", "worker", "--threads", "2"],
                    env={**os.environ, **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    try:
        deadline = time.monotonic() + 60
        while not all(_events(p, "worker_ready") for p in logs):
            assert time.monotonic() < deadline, [p.read_text()[-2000:] for p in logs]
            await asyncio.sleep(0.2)
        for number in range(1, ACCOUNTS + 1):
            await connect_account(runtime, "instagram_business", fleet_account(number))

        ran = 0
        while ran < ACCOUNTS:
            assert time.monotonic() < deadline + 60, [p.read_text()[-2000:] for p in logs]
            await asyncio.sleep(0.3)
            async with runtime.db.session() as session:
                ran = int(
                    await session.scalar(
                        select(func.count())
                        .select_from(SyncState)
                        .where(SyncState.task == RUN_TASK, SyncState.runs >= 1)
                    )
                    or 0
                )
    finally:
        for process in workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    runs = [_events(p, "sync_run") for p in logs]
    assert all(runs), "each worker ran a share of the integrations"
    integrations = [r["integration_id"] for worker in runs for r in worker]
    # One run each (the next is hours away): none ran twice, at once or otherwise.
    assert sorted(integrations) == sorted(set(integrations)) and len(integrations) == ACCOUNTS
    assert all(r["ok"] and r["lease_kept"] for worker in runs for r in worker)
