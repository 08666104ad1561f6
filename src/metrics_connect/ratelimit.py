"""Per-merchant request limits (per second and per minute): fixed windows.

The `limits` library's memory storage by default; Redis when configured, so that
several API processes share one budget. There both windows are counted by one Lua
script, one round trip per request (the `limits` storage took one per window, and
that second round trip was a fifth of the seed request's CPU). If Redis cannot be
reached the limiter degrades to local in-memory limits (logged) rather than refusing
traffic, and goes back to Redis once it answers again.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from redis.asyncio import Redis

from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.ratelimit")

REDIS_RETRY_SECONDS = 5.0
# A Redis that stops answering must not hold requests: give up on it after this long.
REDIS_TIMEOUT_SECONDS = 1.0
# The prefix the `limits` Redis storage gave its keys: the windows keep their names.
REDIS_KEY_PREFIX = "LIMITS:"

# The same steps as _check below, on the server: KEYS = the second's and the minute's
# window, and a version key read on the way (the auth cache's, accounts/auth_cache.py:
# what another process changed, learnt in this same round trip); ARGV = the windows'
# expiries and amounts. Returns {allowed, minute count, seconds until the refusing
# window resets, the version}.
_TWO_WINDOWS = """
local version = tonumber(redis.call('GET', KEYS[3]) or '0')
local second = redis.call('INCRBY', KEYS[1], 1)
if second == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if second > tonumber(ARGV[2]) then
  return {0, tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('TTL', KEYS[1]), version}
end
local minute = redis.call('INCRBY', KEYS[2], 1)
if minute == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if minute > tonumber(ARGV[4]) then
  return {0, minute, redis.call('TTL', KEYS[2]), version}
end
return {1, minute, 0, version}
"""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int
    # The version key's value when the hit was counted on Redis (None in memory).
    shared_version: int | None = None


class MerchantRateLimiter:
    def __init__(self, redis_url: str | None, version_key: str = "") -> None:
        # The asyncio flavour of the in-memory storage expires windows in a task on the
        # loop (the threaded one started timer threads).
        self._local: Storage = MemoryStorage()
        self._redis: Redis | None = None
        self._redis_down_until = 0.0
        self._version_key = version_key or REDIS_KEY_PREFIX + "version"
        if redis_url:
            # redis-py's asyncio client: no worker-thread hop per request.
            self._redis = Redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._two_windows = self._redis.register_script(_TWO_WINDOWS)

    @property
    def backend(self) -> str:
        return "redis" if self._redis is not None else "memory"

    async def hit(self, merchant_key: str, per_second: int, per_minute: int) -> RateDecision:
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                return await self._check_redis(merchant_key, per_second, per_minute)
            except Exception as exc:  # any storage failure: degrade, don't refuse
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                log.warning("rate_limit_redis_unavailable", error=type(exc).__name__)
        return await _check(self._local, merchant_key, per_second, per_minute)

    async def _check_redis(self, key: str, per_second: int, per_minute: int) -> RateDecision:
        second = RateLimitItemPerSecond(max(per_second, 1))
        minute = RateLimitItemPerMinute(max(per_minute, 1))
        allowed, used, reset_seconds, version = await self._two_windows(
            keys=[
                REDIS_KEY_PREFIX + second.key_for("merchant", key),
                REDIS_KEY_PREFIX + minute.key_for("merchant", key),
                self._version_key,
            ],
            args=[second.get_expiry(), second.amount, minute.get_expiry(), minute.amount],
        )
        remaining = max(minute.amount - int(used), 0)
        if allowed:
            return RateDecision(True, per_minute, remaining, 0, int(version))
        return RateDecision(False, per_minute, remaining, max(1, int(reset_seconds)), int(version))


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
