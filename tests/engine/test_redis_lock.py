"""Across processes: two coordinators (two processes' worth) share one upstream fetch
through the Redis lock, the second re-reading the store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from metrics_connect import clock
from metrics_connect.connectors.base import (
    AccountInfo,
    Connector,
    DatasetSpec,
    FetchRequest,
    FetchResult,
    PlannedCall,
    Row,
)
from metrics_connect.engine.coordinator import FetchCoordinator
from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.plan import PlannedFetch
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import REDIS_URL
from tests.engine.conftest import bare_integration

pytestmark = pytest.mark.redis

SPEC = DatasetSpec("daily", "daily", ("clicks",))
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


class SlowConnector(Connector):
    slug = "toy"
    datasets = {"daily": SPEC}
    fetches = 0

    def __init__(self) -> None:
        self.ctx = SimpleNamespace(settings=None)  # type: ignore[assignment]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        type(self).fetches += 1
        await asyncio.sleep(0.3)
        return FetchResult(rows=[Row(request.start, {}, {"clicks": 1})])

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        return [PlannedCall("GET", "/daily", {})]

    async def account_info(self) -> AccountInfo:
        return AccountInfo("toy", "UTC")


async def test_two_processes_share_one_fetch(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    if not REDIS_URL:
        pytest.skip("Redis tests need METRICS_CONNECT_TEST_REDIS_URL")
    runtime = Runtime.from_settings(settings_factory(sqlite_url))
    iid = await bare_integration(runtime, slug="toy")
    clock.set_clock(lambda: NOW)
    try:
        request = FetchRequest("daily", date(2026, 3, 1), date(2026, 3, 1))
        planned = PlannedFetch(("daily", "-"), request, "missing")
        # Separate stores and coordinators: nothing shared in memory, only Redis + DB.
        first = FetchCoordinator(FactStore(runtime.db), 4, REDIS_URL)
        second = FetchCoordinator(FactStore(runtime.db), 4, REDIS_URL)
        SlowConnector.fetches = 0
        read_at, read_wall = time.monotonic(), clock.now()
        kwargs: dict[str, Any] = {"read_at": read_at, "read_at_wall": read_wall}
        results = await asyncio.gather(
            first.run(iid, "UTC", SlowConnector(), {"daily": SPEC}, [planned], **kwargs),
            second.run(iid, "UTC", SlowConnector(), {"daily": SPEC}, [planned], **kwargs),
        )
        assert results == [{}, {}]
        assert SlowConnector.fetches == 1
        await first.close()
        await second.close()
    finally:
        clock.set_clock(None)
        await runtime.db.dispose()
