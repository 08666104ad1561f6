"""Per-merchant request limits (per second and per minute) with the `limits` library.

Memory storage by default; Redis when configured, so that several API processes
share one budget. If Redis cannot be reached the limiter degrades to local
in-memory limits (logged) rather than refusing traffic, and goes back to Redis
once it answers again.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string

from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.ratelimit")

REDIS_RETRY_SECONDS = 5.0
# A Redis that stops answering must not hold requests: give up on it after this long.
REDIS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class MerchantRateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        # The asyncio flavours: the in-memory storage expires windows in a task on the
        # loop (the threaded one started timer threads), and Redis is asked with
        # redis-py's asyncio client (no worker-thread hop per request).
        self._local: Storage = MemoryStorage()
        self._redis: Storage | None = None
        self._redis_down_until = 0.0
        if redis_url:
            storage = storage_from_string(
                "async+" + redis_url,
                implementation="redispy",
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            assert isinstance(storage, Storage)
            self._redis = storage

    @property
    def backend(self) -> str:
        return "redis" if self._redis is not None else "memory"

    async def hit(self, merchant_key: str, per_second: int, per_minute: int) -> RateDecision:
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                return await _check(self._redis, merchant_key, per_second, per_minute)
            except Exception as exc:  # any storage failure: degrade, don't refuse
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                log.warning("rate_limit_redis_unavailable", error=type(exc).__name__)
        return await _check(self._local, merchant_key, per_second, per_minute)


async def _check(storage: Storage, key: str, per_second: int, per_minute: int) -> RateDecision:
    # The fixed-window strategy's own steps (increment, compare), done on the storage so
    # that the count the increment returns gives `remaining` too: one round trip per
    # window where hit() and get_window_stats() took four in all.
    second = RateLimitItemPerSecond(max(per_second, 1))
    minute = RateLimitItemPerMinute(max(per_minute, 1))
    second_key = second.key_for("merchant", key)
    minute_key = minute.key_for("merchant", key)
    if await storage.incr(second_key, second.get_expiry()) > second.amount:
        used = await storage.get(minute_key)
        reset = await storage.get_expiry(second_key)
        return RateDecision(False, per_minute, max(minute.amount - used, 0), _after(reset))
    used = await storage.incr(minute_key, minute.get_expiry())
    if used > minute.amount:
        return RateDecision(False, per_minute, 0, _after(await storage.get_expiry(minute_key)))
    return RateDecision(True, per_minute, minute.amount - used, 0)


def _after(reset: float) -> int:
    return max(1, math.ceil(reset - time.time()))
