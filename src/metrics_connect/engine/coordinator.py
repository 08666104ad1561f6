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


def _longest_first(connector: Connector, fetches: list[PlannedFetch]) -> list[PlannedFetch]:
    """Behind the concurrency limit, long chains of calls start first: they then overlap
    the short ones instead of ending last. Listings (pages, then batches of what they
    list) come first of all: their length is unknown until they run."""

    def length(planned: PlannedFetch) -> tuple[bool, int]:
        calls = connector.plan_calls(planned.request)
        return (any(c.estimated for c in calls), len(calls))

    return sorted(fetches, key=length, reverse=True)


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

        results = await asyncio.gather(*(one(p) for p in _longest_first(connector, fetches)))
        return {planned: error for planned, error in results if error is not None}

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
