"""Per-merchant request limits (per second and per minute): fixed windows.

The `limits` library's memory storage by default; Redis when configured, so that
several API processes share one budget. There both windows are counted by one Lua
script, at most one round trip per request (the `limits` storage took one per window,
and that second round trip was a fifth of the seed request's CPU), and the hits made
while a call is on its way share the next call: with 32 requests at once per process
the round trip was more than half of the seed request's CPU. If Redis cannot be
reached the limiter degrades to local in-memory limits (logged) rather than refusing
traffic, and goes back to Redis once it answers again.
"""

from __future__ import annotations

import asyncio
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

# The same steps as _check below, on the server, for each hit of a batch in order:
# KEYS = a version key read on the way (the auth cache's, accounts/auth_cache.py: what
# another process changed, learnt in this same round trip), then each hit's second and
# minute windows; ARGV = each hit's window expiries and amounts. Returns the version,
# then for each hit {allowed, minute count, seconds until the refusing window resets}.
_WINDOWS = """
local out = {tonumber(redis.call('GET', KEYS[1]) or '0')}
for i = 1, (#KEYS - 1) / 2 do
  local sk, mk, a = KEYS[2 * i], KEYS[2 * i + 1], 4 * (i - 1)
  local second = redis.call('INCRBY', sk, 1)
  if second == 1 then redis.call('EXPIRE', sk, ARGV[a + 1]) end
  if second > tonumber(ARGV[a + 2]) then
    out[#out + 1] = 0
    out[#out + 1] = tonumber(redis.call('GET', mk) or '0')
    out[#out + 1] = redis.call('TTL', sk)
  else
    local minute = redis.call('INCRBY', mk, 1)
    if minute == 1 then redis.call('EXPIRE', mk, ARGV[a + 3]) end
    out[#out + 1] = minute > tonumber(ARGV[a + 4]) and 0 or 1
    out[#out + 1] = minute
    out[#out + 1] = minute > tonumber(ARGV[a + 4]) and redis.call('TTL', mk) or 0
  end
end
return out
"""


@dataclass
class _Hit:
    """A hit waiting for the next script call."""

    keys: tuple[str, str]
    args: tuple[int, int, int, int]
    per_minute: int
    minute_amount: int
    answer: asyncio.Future[RateDecision]


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
        # Hits made while a script call is on its way go together in the next one:
        # under load, one round trip for many requests (each counted as alone, in order).
        self._waiting: list[_Hit] = []
        self._sender: asyncio.Task[None] | None = None
        if redis_url:
            # redis-py's asyncio client: no worker-thread hop per request.
            self._redis = Redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._windows = self._redis.register_script(_WINDOWS)

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
        answer: asyncio.Future[RateDecision] = asyncio.get_running_loop().create_future()
        self._waiting.append(
            _Hit(
                (
                    REDIS_KEY_PREFIX + second.key_for("merchant", key),
                    REDIS_KEY_PREFIX + minute.key_for("merchant", key),
                ),
                (second.get_expiry(), second.amount, minute.get_expiry(), minute.amount),
                per_minute,
                minute.amount,
                answer,
            )
        )
        sender = self._sender
        if sender is None or sender.done() or sender.get_loop() is not answer.get_loop():
            self._sender = asyncio.ensure_future(self._send())
        return await answer

    async def _send(self) -> None:
        """One script call at a time, each with every hit that waited for it."""
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    values = await self._windows(
                        keys=[self._version_key, *(k for hit in batch for k in hit.keys)],
                        args=[a for hit in batch for a in hit.args],
                    )
                except Exception as exc:
                    # The hits that queued meanwhile would meet the same Redis: they
                    # degrade with these (hit() counts them in memory).
                    batch, self._waiting = batch + self._waiting, []
                    for hit in batch:
                        if not hit.answer.done():
                            hit.answer.set_exception(exc)
                    continue
                version = int(values[0])
                for index, hit in enumerate(batch):
                    allowed, used, reset = values[1 + 3 * index : 4 + 3 * index]
                    remaining = max(hit.minute_amount - int(used), 0)
                    retry_after = 0 if allowed else max(1, int(reset))
                    if not hit.answer.done():  # its request may be gone
                        hit.answer.set_result(
                            RateDecision(
                                bool(allowed), hit.per_minute, remaining, retry_after, version
                            )
                        )
        finally:
            self._sender = None


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
