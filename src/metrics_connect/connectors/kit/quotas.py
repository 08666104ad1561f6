"""Upstream quotas kept on our side (`limits`), for networks that refuse bursts without
telling when to come back: calls wait for room in the quota's window instead of being
refused. Shared through Redis when `redis_url` is configured, so that every process of
a deployment counts against the same quota; per process otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
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

# Storages (their locks, expiry task and Redis connections) and the semaphores of
# requests in flight per (network, account) belong to the event loop that made them.
_STORAGES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str | None, Storage]] = (
    weakref.WeakKeyDictionary()
)
_IN_FLIGHT: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str], asyncio.Semaphore]
] = weakref.WeakKeyDictionary()


def _storage(redis_url: str | None) -> Storage:
    storages = _STORAGES.setdefault(asyncio.get_running_loop(), {})
    if redis_url not in storages:
        if redis_url:
            storage = storage_from_string("async+" + redis_url, implementation="redispy")
            assert isinstance(storage, Storage)
            storages[redis_url] = storage
        else:
            storages[None] = MemoryStorage()
    return storages[redis_url]


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
        self.redis_url = redis_url
        self.concurrent = quota.concurrent

    @contextlib.asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """One of the account's `concurrent` places for a request in flight (this
        process's share of it); no wait where the quota sets none."""
        if not self.concurrent:
            yield
            return
        in_flight = _IN_FLIGHT.setdefault(asyncio.get_running_loop(), {})
        semaphore = in_flight.get((self.network, key))
        if semaphore is None:
            semaphore = in_flight[self.network, key] = asyncio.Semaphore(self.concurrent)
        async with semaphore:
            yield

    async def acquire(self, key: str, budget_seconds: float) -> None:
        """Room for one call of `key` (an account), waiting at most `budget_seconds`."""
        deadline = time.monotonic() + budget_seconds
        limiter = MovingWindowRateLimiter(_storage(self.redis_url))
        for item in self.items:
            while not await limiter.hit(item, self.network, key):
                stats = await limiter.get_window_stats(item, self.network, key)
                wait = max(0.01, stats.reset_time - time.time())
                if time.monotonic() + wait > deadline:
                    raise UpstreamRateLimited(
                        f"{self.network}: our side of the upstream quota is spent",
                        retry_after=wait,
                    )
                await asyncio.sleep(wait)
