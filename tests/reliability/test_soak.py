"""Soak (long version only: METRICS_CONNECT_LONG_RELIABILITY=1): 10 minutes of steady
mixed traffic with upstream faults on; memory stays flat after warm-up, no request
fails with a 5xx, and latency does not drift."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

import pytest
from bench.widgets import dashboard_request, seed_request

from metrics_connect import clock
from metrics_connect.engine.days import account_today
from tests.reliability.conftest import LONG, StackFactory

SOAK_SECONDS = float(os.environ.get("METRICS_CONNECT_SOAK_SECONDS", "600"))
SAMPLE_EVERY = 10.0
# Allowed growth of resident memory between the first and the last third of the soak.
MAX_GROWTH_MB = 40.0

pytestmark = [
    pytest.mark.skipif(
        not LONG, reason="long reliability run only (METRICS_CONNECT_LONG_RELIABILITY=1)"
    ),
    pytest.mark.timeout(SOAK_SECONDS + 300),
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def test_soak_memory_steady(stack_factory: StackFactory) -> None:
    async with stack_factory(request_time_budget_seconds=30.0) as s:
        s.switches.server_error_ratio = 0.05
        s.switches.rate_limit_ratio = 0.02
        today = account_today(clock.now(), s.timezone)
        bodies = [
            seed_request(s.integration),
            dashboard_request(s.integration, today, days=30),
            dashboard_request(s.integration, today, days=90),
        ]
        samples: list[float] = []
        latencies: list[tuple[float, float]] = []
        statuses: dict[int, int] = {}
        started = time.monotonic()
        next_sample = started
        i = 0
        while time.monotonic() - started < SOAK_SECONDS:
            t0 = time.monotonic()
            if i % 5 == 4:
                response = await s.client.get("/customers/settings", headers=s.headers)
            else:
                body = bodies[i % len(bodies)]
                response = await s.client.post("/metrics/get-data", json=body, headers=s.headers)
            latencies.append((t0 - started, time.monotonic() - t0))
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            i += 1
            if time.monotonic() >= next_sample:
                samples.append(rss_mb())
                next_sample += SAMPLE_EVERY
            await asyncio.sleep(0)
    assert not [code for code in statuses if code >= 500], statuses
    third = max(1, len(samples) // 3)
    first, last = statistics.fmean(samples[:third]), statistics.fmean(samples[-third:])
    assert last - first <= MAX_GROWTH_MB, f"RSS {first:.0f} -> {last:.0f} MB over the soak"
    early = [d for t, d in latencies if t < SOAK_SECONDS / 3]
    late = [d for t, d in latencies if t > 2 * SOAK_SECONDS / 3]
    assert statistics.median(late) <= statistics.median(early) * 2 + 0.05
