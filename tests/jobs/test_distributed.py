"""Distributed mode on Redis: a worker SIGKILLed mid-job, a new worker, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from tests.conftest import REDIS_URL
from tests.jobs.conftest import JobsService
from tests.jobs.receiver import Receiver, serve_in_thread

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not REDIS_URL,
        reason="distributed-mode tests need METRICS_CONNECT_TEST_REDIS_URL (CI sets it)",
    ),
]

LEASE_SECONDS = 3.0


@pytest.fixture
def sandbox_url(ig_network: InstagramSandboxNetwork) -> Iterator[str]:
    """The Instagram emulator on loopback, reachable from worker processes."""
    server, thread, port = serve_in_thread(ig_network.app)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"test_jobs_{uuid.uuid4().hex[:12]}"
    yield name
    assert REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{name}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    workers: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"worker-{len(workers)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "metrics_connect.cli", "worker", "--threads", "4"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )
        workers.append(process)
        return process

    yield start
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


async def test_a_worker_killed_mid_job_loses_nothing(
    db_url: str,
    make_service: Callable[..., Any],
    make_receiver: Callable[..., Receiver],
    sandbox_url: str,
    queue_name: str,
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    assert REDIS_URL
    jobs = {
        "broker_url": REDIS_URL,
        "job_queue_name": queue_name,
        "job_lease_seconds": LEASE_SECONDS,
        "job_sweep_interval_seconds": 0.3,
        "job_requeue_after_seconds": 5.0,
        "instagram_api_base_url": sandbox_url,
    }
    api: JobsService = await make_service(database_url=db_url, **jobs)
    env = {f"METRICS_CONNECT_{k.upper()}": str(v) for k, v in jobs.items()}
    env.update(
        METRICS_CONNECT_DATABASE_URL=db_url,
        METRICS_CONNECT_CREDENTIALS_KEY=str(api.runtime.settings.credentials_key),
        METRICS_CONNECT_WEBHOOK_ALLOWLIST="127.0.0.1",
        METRICS_CONNECT_SYNC_ENABLED="false",
        METRICS_CONNECT_DATA_DIR=str(api.runtime.settings.data_dir),
    )
    hold = threading.Event()
    first_arrived = threading.Event()
    receiver = make_receiver(hold_first=hold, on_request=lambda _r: first_arrived.set())

    doomed = start_worker(env)
    job_uuids = []
    for _ in range(4):
        accepted = await api.client.post(
            "/metrics/get-data-async", json=api.body(receiver.url), headers=api.headers
        )
        assert accepted.status_code == 200, accepted.text
        job_uuids.append(accepted.json()["job"]["uuid"])

    # The first delivery hangs at the receiver: the worker is mid-job. Kill it.
    assert await _wait_event(first_arrived, 60), "the first worker never delivered"
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)
    hold.set()
    held_id = receiver.received[0].headers["webhook-id"]

    start_worker(env)
    finished = [await api.wait_status(u, timeout=60) for u in job_uuids]

    assert [j["status"] for j in finished] == ["delivered"] * 4
    delivered_ids = {r.headers["webhook-id"] for r in receiver.received}
    assert delivered_ids == {j["webhook_id"] for j in finished}
    held_job = next(j for j in finished if j["webhook_id"] == held_id)
    assert held_job["attempts"][0]["error"].startswith("interrupted")
    assert held_job["attempts"][-1]["http_status"] == 200
    held_bodies = {r.body for r in receiver.received if r.headers["webhook-id"] == held_id}
    assert len(held_bodies) == 1  # the retry carried the same bytes


async def _wait_event(event: threading.Event, timeout: float) -> bool:
    import asyncio

    return await asyncio.to_thread(event.wait, timeout)
