"""The fetch coordinator: run planned fetches through the connector, once each.

- At most `settings.fetch_concurrency` upstream fetches at once per integration.
- Identical fetches (same integration, dataset, variant, days) share one upstream call:
  in-process through a shared future; across processes through a Redis lock when
  `settings.redis_url` is set (the waiter re-reads the store before fetching).
- What a fetch returns is stored (FactStore.store, origin "engine") before it is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError

from metrics_connect import clock
from metrics_connect.connectors.base import (
    Connector,
    DatasetSpec,
    FetchRequest,
    PlannedCall,
    UpstreamError,
    UpstreamTransient,
)
from metrics_connect.engine.days import days_between
from metrics_connect.engine.facts import FactStore, variant_key
from metrics_connect.engine.plan import PlannedFetch
from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.engine")

FetchKey = tuple[int, str, str, str, str]
LOCK_TIMEOUT_SECONDS = 120
OUT_OF_BUDGET = "The network did not answer within the request's time budget."
DONE_MEMORY_SECONDS = 300


def fetch_key(integration_id: int, request: FetchRequest) -> FetchKey:
    return (
        integration_id,
        request.dataset,
        variant_key(request),
        request.start.isoformat(),
        request.end.isoformat(),
    )


def fetch_groups(connector: Connector, fetches: list[PlannedFetch]) -> list[list[PlannedFetch]]:
    """The fetches as the connector answers them: alone, or several by shared calls
    (Connector.shared_groups). Explain shows the same groups."""
    share = getattr(connector, "shared_groups", None)  # a stand-in may lack the hook
    if len(fetches) < 2 or share is None:
        return [[f] for f in fetches]
    groups = share([f.request for f in fetches])
    return [[fetches[i] for i in group] for group in groups]


def group_calls(connector: Connector, group: list[PlannedFetch]) -> list[PlannedCall]:
    """The calls a group makes: a lone fetch's own, or the group's shared calls."""
    if len(group) == 1:
        return connector.plan_calls(group[0].request)
    return connector.plan_shared_calls([f.request for f in group])


def _longest_first(
    connector: Connector, groups: list[list[PlannedFetch]]
) -> list[list[PlannedFetch]]:
    """Behind the concurrency limit, long chains of calls start first: they then overlap
    the short ones instead of ending last. Listings (pages, then batches of what they
    list) come first of all: their length is unknown until they run."""

    def length(group: list[PlannedFetch]) -> tuple[bool, int]:
        calls = group_calls(connector, group)
        return (any(c.estimated for c in calls), len(calls))

    return sorted(groups, key=length, reverse=True)


class FetchCoordinator:
    def __init__(self, store: FactStore, concurrency: int, redis_url: str | None) -> None:
        self.store = store
        self.concurrency = max(1, concurrency)
        self.redis_url = redis_url
        self._redis: Any = None
        self._inflight: dict[FetchKey, asyncio.Future[None]] = {}
        # When each recent fetch finished (monotonic): a request that read the store
        # before then must not fetch the same chunk again.
        self._done: dict[FetchKey, float] = {}
        self._semaphores: dict[int, asyncio.Semaphore] = {}
        self.upstream_fetches = 0  # fetches this process made (benchmarks, tests)

    def _semaphore(self, integration_id: int) -> asyncio.Semaphore:
        semaphore = self._semaphores.get(integration_id)
        if semaphore is None:
            semaphore = asyncio.Semaphore(self.concurrency)
            self._semaphores[integration_id] = semaphore
        return semaphore

    async def run(
        self,
        integration_id: int,
        timezone: str,
        connector: Connector,
        specs: dict[str, DatasetSpec],
        fetches: list[PlannedFetch],
        *,
        read_at: float,
        read_at_wall: datetime,
        on_done: Callable[[PlannedFetch, UpstreamError | None], None] | None = None,
    ) -> dict[PlannedFetch, UpstreamError]:
        """Run every fetch; the errors of those that failed, by fetch.

        `read_at` (time.monotonic()) and `read_at_wall` (clock.now()) are when the caller
        read the store: chunks fetched since then by anyone are not fetched again.
        `on_done` is told of each fetch as it ends: stored (None) or its error.
        """
        self._prune()
        # The request's time budget bounds its upstream part: a fetch still running when
        # it is spent is abandoned and fails its widgets with upstream_error.
        budget = getattr(connector.ctx.settings, "request_time_budget_seconds", None)
        deadline = asyncio.get_running_loop().time() + float(budget) if budget else None

        async def one(planned: PlannedFetch) -> tuple[PlannedFetch, UpstreamError | None]:
            spec = specs[planned.request.dataset]
            error: UpstreamError | None = None
            try:
                async with asyncio.timeout_at(deadline):
                    await self._shared(
                        fetch_key(integration_id, planned.request),
                        lambda: self._fetch(integration_id, timezone, connector, spec, planned),
                        read_at,
                        read_at_wall,
                    )
            except UpstreamError as exc:
                error = exc
            except TimeoutError:
                error = UpstreamTransient(OUT_OF_BUDGET)
            finally:
                if on_done is not None:
                    on_done(planned, error)
            return planned, error

        async def together(
            group: list[PlannedFetch],
        ) -> list[tuple[PlannedFetch, UpstreamError | None]]:
            outcomes: dict[PlannedFetch, UpstreamError | None] = {}

            def done(planned: PlannedFetch, error: UpstreamError | None) -> None:
                outcomes[planned] = error
                if on_done is not None:
                    on_done(planned, error)

            try:
                async with asyncio.timeout_at(deadline):
                    await self._shared_group(
                        integration_id,
                        timezone,
                        connector,
                        specs,
                        group,
                        (read_at, read_at_wall),
                        done,
                    )
            except TimeoutError:
                for planned in group:
                    if planned not in outcomes:
                        done(planned, UpstreamTransient(OUT_OF_BUDGET))
            return [(planned, outcomes.get(planned)) for planned in group]

        async def unit(
            group: list[PlannedFetch],
        ) -> list[tuple[PlannedFetch, UpstreamError | None]]:
            return [await one(group[0])] if len(group) == 1 else await together(group)

        groups = _longest_first(connector, fetch_groups(connector, fetches))
        results = await asyncio.gather(*(unit(g) for g in groups))
        return {p: error for pairs in results for p, error in pairs if error is not None}

    async def _shared_group(
        self,
        integration_id: int,
        timezone: str,
        connector: Connector,
        specs: dict[str, DatasetSpec],
        group: list[PlannedFetch],
        read: tuple[float, datetime],
        done: Callable[[PlannedFetch, UpstreamError | None], None],
    ) -> None:
        """Fetch a group by its shared calls, each member still shared like a lone fetch:
        a member already running elsewhere is awaited, one stored since `read_at` is
        skipped, the rest are fetched together and stored one by one. Across processes
        (Redis) each member runs under its own lock, taken in key order."""
        read_at, read_at_wall = read
        mine: list[tuple[PlannedFetch, FetchKey, asyncio.Future[None]]] = []
        waits: list[tuple[PlannedFetch, asyncio.Future[None]]] = []
        loop = asyncio.get_running_loop()
        for planned in group:
            key = fetch_key(integration_id, planned.request)
            running = self._inflight.get(key)
            if running is not None:
                waits.append((planned, running))
            elif self._done.get(key, -1.0) >= read_at:
                done(planned, None)
            else:
                future: asyncio.Future[None] = loop.create_future()
                self._inflight[key] = future
                mine.append((planned, key, future))

        def settle(
            planned: PlannedFetch,
            key: FetchKey,
            future: asyncio.Future[None],
            error: BaseException | None,
        ) -> None:
            self._inflight.pop(key, None)
            if future.done():
                return
            if error is None:
                self._done[key] = time.monotonic()
                future.set_result(None)
            else:
                future.set_exception(error)
                future.exception()  # retrieved: no "never retrieved" log
            if isinstance(error, UpstreamError) or error is None:
                done(planned, error)

        try:
            if mine:
                outcomes = await self._fetch_group(
                    integration_id,
                    timezone,
                    connector,
                    specs,
                    [p for p, _, _ in mine],
                    read_at_wall,
                )
                for (planned, key, future), outcome in zip(mine, outcomes, strict=True):
                    settle(planned, key, future, outcome)
        except asyncio.CancelledError:
            for planned, key, future in mine:
                settle(planned, key, future, UpstreamTransient(OUT_OF_BUDGET))
            raise
        except BaseException as exc:
            for planned, key, future in mine:
                settle(planned, key, future, exc)
            raise
        for planned, running in waits:
            try:
                await asyncio.shield(running)
            except UpstreamError as exc:
                done(planned, exc)
            else:
                done(planned, None)

    async def _fetch_group(
        self,
        integration_id: int,
        timezone: str,
        connector: Connector,
        specs: dict[str, DatasetSpec],
        group: list[PlannedFetch],
        read_at_wall: datetime,
    ) -> list[UpstreamError | None]:
        """One group's shared calls, then each answered member stored: each member's
        outcome, in order (None: stored, here or by another process meanwhile)."""
        outcomes: dict[PlannedFetch, UpstreamError | None] = dict.fromkeys(group)
        async with contextlib.AsyncExitStack() as locks:
            todo = group
            if self.redis_url:
                todo = await self._lock_members(locks, integration_id, group, read_at_wall)
            if todo:
                async with self._semaphore(integration_id):
                    started = clock.now()
                    results = await connector.fetch_shared([p.request for p in todo])
                    self.upstream_fetches += len(todo)
                for planned, result in zip(todo, results, strict=True):
                    if isinstance(result, UpstreamError):
                        outcomes[planned] = result
                        continue
                    await self.store.store(
                        integration_id,
                        specs[planned.request.dataset],
                        planned.request,
                        result,
                        fetched_at=started,
                        timezone=timezone,
                        origin="engine",
                    )
        return [outcomes[p] for p in group]

    async def _lock_members(
        self,
        locks: contextlib.AsyncExitStack,
        integration_id: int,
        group: list[PlannedFetch],
        read_at_wall: datetime,
    ) -> list[PlannedFetch]:
        """Each member's cross-process lock, in key order (no two groups deadlock); the
        members no other process stored while we waited."""
        redis = self._client()
        keyed = sorted(((fetch_key(integration_id, p.request), p) for p in group), key=repr)
        todo: list[PlannedFetch] = []
        for key, planned in keyed:
            name = "metrics-connect:fetch:" + hashlib.sha256(repr(key).encode()).hexdigest()
            lock = redis.lock(
                name, timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=LOCK_TIMEOUT_SECONDS
            )
            try:
                acquired = await lock.acquire()
            except RedisError as exc:
                log.warning("fetch_lock_unavailable", error=type(exc).__name__)
                todo.append(planned)
                continue
            if acquired:
                locks.push_async_callback(_release, lock)
                if await self._stored_since(key, read_at_wall):
                    continue
            todo.append(planned)
        return [p for p in group if p in todo]

    async def run_syncs(
        self,
        integration_id: int,
        keys: list[FetchKey],
        work: Callable[[FetchKey], Awaitable[None]],
        *,
        budget: float | None,
        read_at: float,
        read_at_wall: datetime,
    ) -> dict[FetchKey, UpstreamError]:
        """Records syncs (engine/records.py) under the same sharing as fetches: one per
        key at a time in this process (and across processes with Redis), within the
        request's time budget and the integration's concurrency."""
        deadline = asyncio.get_running_loop().time() + budget if budget else None

        async def one(key: FetchKey) -> tuple[FetchKey, UpstreamError | None]:
            async def limited() -> None:
                async with self._semaphore(integration_id):
                    await work(key)
                    self.upstream_fetches += 1

            try:
                async with asyncio.timeout_at(deadline):
                    await self._shared(key, limited, read_at, read_at_wall)
            except UpstreamError as exc:
                return key, exc
            except TimeoutError:
                return key, UpstreamTransient(OUT_OF_BUDGET)
            return key, None

        results = await asyncio.gather(*(one(k) for k in keys))
        return {key: error for key, error in results if error is not None}

    def _prune(self) -> None:
        horizon = time.monotonic() - DONE_MEMORY_SECONDS
        for key in [k for k, t in self._done.items() if t < horizon]:
            del self._done[key]

    async def _shared(
        self,
        key: FetchKey,
        work: Callable[[], Awaitable[None]],
        read_at: float,
        read_at_wall: datetime,
    ) -> None:
        running = self._inflight.get(key)
        if running is not None:
            await asyncio.shield(running)
            return
        if self._done.get(key, -1.0) >= read_at:
            return  # fetched and stored after this request read the store
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            await self._locked(key, work, read_at_wall)
        except asyncio.CancelledError:
            # Abandoned at its request's budget: requests sharing it fail, not crash.
            future.set_exception(UpstreamTransient(OUT_OF_BUDGET))
            future.exception()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            # Retrieved here so that no "exception was never retrieved" is logged.
            future.exception()
            raise
        else:
            self._done[key] = time.monotonic()
            future.set_result(None)
        finally:
            self._inflight.pop(key, None)

    async def _locked(
        self, key: FetchKey, work: Callable[[], Awaitable[None]], read_at_wall: datetime
    ) -> None:
        if not self.redis_url:
            await work()
            return
        redis = self._client()
        name = "metrics-connect:fetch:" + hashlib.sha256(repr(key).encode()).hexdigest()
        lock = redis.lock(name, timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=LOCK_TIMEOUT_SECONDS)
        try:
            acquired = await lock.acquire()
        except RedisError as exc:
            # Redis unreachable: fetch without the cross-process lock (at worst two
            # processes fetch the same chunk) rather than fail the request.
            log.warning("fetch_lock_unavailable", error=type(exc).__name__)
            await work()
            return
        try:
            if acquired and await self._stored_since(key, read_at_wall):
                return
            await work()
        finally:
            if acquired:
                with contextlib.suppress(RedisError):  # expired, or Redis went away
                    await lock.release()

    def _client(self) -> Any:
        if self._redis is None:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(str(self.redis_url))
        return self._redis

    async def _stored_since(self, key: FetchKey, read_at_wall: datetime) -> bool:
        """Another process may have fetched this chunk while we waited for the lock."""
        integration_id, dataset, variant, start_text, end_text = key
        start, end = (
            datetime.fromisoformat(start_text).date(),
            datetime.fromisoformat(end_text).date(),
        )
        snapshot = await self.store.load(
            integration_id,
            day_keys=[(dataset, variant)],
            period_keys=[(dataset, variant, start, end)],
            start=start,
            end=end,
            with_facts=False,
        )
        recent = read_at_wall.timestamp()
        period = snapshot.periods.get((dataset, variant, start, end))
        if period is not None:
            return period.fetched_at.timestamp() >= recent
        coverage = snapshot.coverage.get((dataset, variant), {})
        return all(
            d in coverage and coverage[d].fetched_at.timestamp() >= recent
            for d in days_between(start, end)
        )

    async def _fetch(
        self,
        integration_id: int,
        timezone: str,
        connector: Connector,
        spec: DatasetSpec,
        planned: PlannedFetch,
    ) -> None:
        async with self._semaphore(integration_id):
            started = clock.now()
            result = await connector.fetch(planned.request)
            self.upstream_fetches += 1
        await self.store.store(
            integration_id,
            spec,
            planned.request,
            result,
            fetched_at=started,
            timezone=timezone,
            origin="engine",
        )
        log.debug(
            "engine_fetch",
            dataset=spec.name,
            start=planned.request.start.isoformat(),
            end=planned.request.end.isoformat(),
            rows=len(result.rows),
            objects=len(result.objects),
        )

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


async def _release(lock: Any) -> None:
    with contextlib.suppress(RedisError):  # expired, or Redis went away
        await lock.release()
