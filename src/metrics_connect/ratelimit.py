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

import anyio
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage as AsyncMemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter as AsyncFixedWindowRateLimiter
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.ratelimit")

REDIS_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class MerchantRateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        # The asyncio flavour of the in-memory storage: its expiry runs as a task on the
        # loop, where the threaded one started a timer thread every few hits.
        self._local = AsyncFixedWindowRateLimiter(AsyncMemoryStorage())
        self._redis: FixedWindowRateLimiter | None = None
        self._redis_down_until = 0.0
        if redis_url:
            storage = storage_from_string(redis_url)
            assert isinstance(storage, Storage)
            self._redis = FixedWindowRateLimiter(storage)

    @property
    def backend(self) -> str:
        return "redis" if self._redis is not None else "memory"

    def _check(
        self, limiter: FixedWindowRateLimiter, key: str, per_second: int, per_minute: int
    ) -> RateDecision:
        second, minute = _items(per_second, per_minute)
        ok_second = limiter.hit(second, "merchant", key)
        ok_minute = ok_second and limiter.hit(minute, "merchant", key)
        stats_minute = limiter.get_window_stats(minute, "merchant", key)
        if ok_second and ok_minute:
            return _decision(per_minute, ok_minute, stats_minute.remaining, 0.0)
        blocked = minute if not ok_minute else second
        reset = limiter.get_window_stats(blocked, "merchant", key).reset_time
        return _decision(per_minute, ok_minute, stats_minute.remaining, reset, refused=True)

    async def _check_local(self, key: str, per_second: int, per_minute: int) -> RateDecision:
        limiter = self._local
        second, minute = _items(per_second, per_minute)
        ok_second = await limiter.hit(second, "merchant", key)
        ok_minute = ok_second and await limiter.hit(minute, "merchant", key)
        stats_minute = await limiter.get_window_stats(minute, "merchant", key)
        if ok_second and ok_minute:
            return _decision(per_minute, ok_minute, stats_minute.remaining, 0.0)
        blocked = minute if not ok_minute else second
        reset = (await limiter.get_window_stats(blocked, "merchant", key)).reset_time
        return _decision(per_minute, ok_minute, stats_minute.remaining, reset, refused=True)

    async def hit(self, merchant_key: str, per_second: int, per_minute: int) -> RateDecision:
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                return await anyio.to_thread.run_sync(
                    self._check, self._redis, merchant_key, per_second, per_minute
                )
            except Exception as exc:  # any storage failure: degrade, don't refuse
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                log.warning("rate_limit_redis_unavailable", error=type(exc).__name__)
        return await self._check_local(merchant_key, per_second, per_minute)


def _items(per_second: int, per_minute: int) -> tuple[RateLimitItem, RateLimitItem]:
    return RateLimitItemPerSecond(max(per_second, 1)), RateLimitItemPerMinute(max(per_minute, 1))


def _decision(
    per_minute: int, ok_minute: bool, remaining: int, reset: float, *, refused: bool = False
) -> RateDecision:
    if not refused:
        return RateDecision(True, per_minute, max(remaining, 0), 0)
    retry_after = max(1, math.ceil(reset - time.time()))
    return RateDecision(False, per_minute, 0 if not ok_minute else max(remaining, 0), retry_after)
