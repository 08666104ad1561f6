"""Upstream quotas kept on our side (`limits`), for networks that refuse bursts without
telling when to come back: calls wait for room in the quota's window instead of being
refused. Shared through Redis when `redis_url` is configured, so that every process of
a deployment counts against the same quota; per process otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from limits import (
    RateLimitItem,
    RateLimitItemPerHour,
    RateLimitItemPerMinute,
    RateLimitItemPerSecond,
)
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from metrics_connect.connectors.base import UpstreamRateLimited
from metrics_connect.connectors.kit.spec import Quota

_STORAGES: dict[str | None, Storage] = {}
# Requests in flight per (event loop, network, account): a semaphore belongs to a loop.
_IN_FLIGHT: dict[tuple[int, str, str], asyncio.Semaphore] = {}


def _storage(redis_url: str | None) -> Storage:
    if redis_url not in _STORAGES:
        if redis_url:
            storage = storage_from_string("async+" + redis_url, implementation="redispy")
            assert isinstance(storage, Storage)
            _STORAGES[redis_url] = storage
        else:
            _STORAGES[None] = MemoryStorage()
    return _STORAGES[redis_url]


class UpstreamQuota:
    def __init__(self, network: str, quota: Quota, redis_url: str | None = None) -> None:
        self.network = network
        self.items: list[RateLimitItem] = [
            item
            for amount, kind in (
                (quota.per_second, RateLimitItemPerSecond),
                (quota.per_minute, RateLimitItemPerMinute),
                (quota.per_hour, RateLimitItemPerHour),
            )
            if amount
            for item in [kind(amount)]
        ]
        self.limiter = MovingWindowRateLimiter(_storage(redis_url))
        self.concurrent = quota.concurrent

    @contextlib.asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """One of the account's `concurrent` places for a request in flight (this
        process's share of it); no wait where the quota sets none."""
        if not self.concurrent:
            yield
            return
        index = (id(asyncio.get_running_loop()), self.network, key)
        semaphore = _IN_FLIGHT.get(index)
        if semaphore is None:
            semaphore = _IN_FLIGHT[index] = asyncio.Semaphore(self.concurrent)
        async with semaphore:
            yield

    async def acquire(self, key: str, budget_seconds: float) -> None:
        """Room for one call of `key` (an account), waiting at most `budget_seconds`."""
        deadline = time.monotonic() + budget_seconds
        for item in self.items:
            while not await self.limiter.hit(item, self.network, key):
                stats = await self.limiter.get_window_stats(item, self.network, key)
                wait = max(0.01, stats.reset_time - time.time())
                if time.monotonic() + wait > deadline:
                    raise UpstreamRateLimited(
                        f"{self.network}: our side of the upstream quota is spent",
                        retry_after=wait,
                    )
                await asyncio.sleep(wait)
