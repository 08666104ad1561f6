"""The engine's shared-calls hook: a connector answers groups of fetches by shared calls
(GA4's batches); the coordinator runs each group as one fetch, stores each member, fails
only the members that failed, and still shares a member another request is fetching."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from metrics_connect.connectors.base import (
    DatasetSpec,
    FetchRequest,
    FetchResult,
    PlannedCall,
    UpstreamError,
)
from metrics_connect.engine.coordinator import FetchCoordinator, fetch_groups, group_calls
from metrics_connect.engine.plan import PlannedFetch

DAY = date(2026, 3, 1)
SPECS = {name: DatasetSpec(name, "daily", ("x",)) for name in ("a", "b", "c", "d", "bad")}


class _Connector:
    """Shares calls between every fetch but "d"; a "bad" member fails alone."""

    def __init__(self) -> None:
        self.ctx = SimpleNamespace(settings=SimpleNamespace(request_time_budget_seconds=None))
        self.shared: list[list[str]] = []
        self.alone: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()

    def shared_groups(self, requests: Sequence[FetchRequest]) -> list[tuple[int, ...]]:
        together = tuple(i for i, r in enumerate(requests) if r.dataset != "d")
        return [together, *((i,) for i, r in enumerate(requests) if r.dataset == "d")]

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        return [PlannedCall("GET", f"/{request.dataset}", {})]

    def plan_shared_calls(self, requests: Sequence[FetchRequest]) -> list[PlannedCall]:
        return [PlannedCall("POST", "/batch", {"n": str(len(requests))})]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        await self.gate.wait()
        self.alone.append(request.dataset)
        return FetchResult()

    async def fetch_shared(
        self, requests: Sequence[FetchRequest]
    ) -> list[FetchResult | UpstreamError]:
        await self.gate.wait()
        self.shared.append([r.dataset for r in requests])
        return [UpstreamError("refused") if r.dataset == "bad" else FetchResult() for r in requests]


class _Store:
    def __init__(self) -> None:
        self.stored: list[str] = []

    async def store(self, integration_id: int, spec: DatasetSpec, *args: Any, **kw: Any) -> None:
        self.stored.append(spec.name)


def planned(*names: str) -> list[PlannedFetch]:
    return [PlannedFetch((n, "-"), FetchRequest(n, DAY, DAY), "missing") for n in names]


async def run(
    coordinator: FetchCoordinator, connector: _Connector, fetches: list[PlannedFetch]
) -> tuple[dict[PlannedFetch, UpstreamError], list[str]]:
    told: list[str] = []
    errors = await coordinator.run(
        1,
        "UTC",
        connector,  # type: ignore[arg-type]
        SPECS,
        fetches,
        read_at=time.monotonic(),
        read_at_wall=datetime.now(UTC),
        on_done=lambda p, error: told.append(p.request.dataset),
    )
    return errors, told


async def test_a_group_is_one_shared_fetch_and_fails_only_its_failed_member() -> None:
    connector, store = _Connector(), _Store()
    fetches = planned("a", "b", "bad", "d")
    groups = fetch_groups(connector, fetches)  # type: ignore[arg-type]
    assert [[f.request.dataset for f in g] for g in groups] == [["a", "b", "bad"], ["d"]]
    assert [c.path for c in group_calls(connector, groups[0])] == ["/batch"]  # type: ignore[arg-type]
    errors, told = await run(FetchCoordinator(store, 4, None), connector, fetches)  # type: ignore[arg-type]
    assert connector.shared == [["a", "b", "bad"]] and connector.alone == ["d"]
    assert sorted(store.stored) == ["a", "b", "d"]
    assert [(p.request.dataset, e.message) for p, e in errors.items()] == [("bad", "refused")]
    assert sorted(told) == ["a", "b", "bad", "d"]


async def test_a_member_in_flight_elsewhere_is_awaited_not_fetched_again() -> None:
    connector, store = _Connector(), _Store()
    coordinator = FetchCoordinator(store, 4, None)  # type: ignore[arg-type]
    connector.gate.clear()
    first = asyncio.create_task(run(coordinator, connector, planned("a", "b")))
    await asyncio.sleep(0.01)  # "a" and "b" are in flight
    second = asyncio.create_task(run(coordinator, connector, planned("a", "c")))
    await asyncio.sleep(0.01)
    connector.gate.set()
    (errors_1, _), (errors_2, told_2) = await asyncio.gather(first, second)
    assert errors_1 == errors_2 == {}
    assert connector.shared == [["a", "b"], ["c"]]  # "a" once, awaited by the second
    assert sorted(told_2) == ["a", "c"]
    assert sorted(store.stored) == ["a", "b", "c"]
