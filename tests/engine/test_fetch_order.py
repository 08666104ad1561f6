"""The coordinator starts long chains of calls first (listings, whose length is unknown,
before all): behind the concurrency limit they overlap the short ones."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from metrics_connect.connectors.base import (
    DatasetSpec,
    FetchRequest,
    FetchResult,
    PlannedCall,
)
from metrics_connect.engine.coordinator import FetchCoordinator
from metrics_connect.engine.plan import PlannedFetch

DAY = date(2026, 3, 1)
SPECS = {
    name: DatasetSpec(name, "daily", ("x",))
    for name in ("short", "long", "longest", "listing", "middle")
}
# Calls each dataset's fetch makes; the listing's one call is an estimate.
CALLS = {"short": 1, "long": 5, "longest": 9, "listing": 1, "middle": 3}


class _Connector:
    def __init__(self) -> None:
        self.ctx = SimpleNamespace(settings=SimpleNamespace(request_time_budget_seconds=None))
        self.started: list[str] = []

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        estimated = request.dataset == "listing"
        return [
            PlannedCall("GET", f"/{request.dataset}/{i}", {}, estimated=estimated)
            for i in range(CALLS[request.dataset])
        ]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.started.append(request.dataset)
        return FetchResult()


class _Store:
    async def store(self, *args: Any, **kwargs: Any) -> None:
        return None


async def test_listings_then_the_longest_chains_start_first() -> None:
    connector = _Connector()
    coordinator = FetchCoordinator(_Store(), 1, None)  # type: ignore[arg-type]
    fetches = [
        PlannedFetch((name, "-"), FetchRequest(name, DAY, DAY), "missing")
        for name in ("short", "long", "listing", "middle", "longest")
    ]
    errors = await coordinator.run(
        1,
        "UTC",
        connector,  # type: ignore[arg-type]
        SPECS,
        fetches,
        read_at=time.monotonic(),
        read_at_wall=datetime.now(UTC),
    )
    assert errors == {}
    assert connector.started == ["listing", "longest", "long", "middle", "short"]
