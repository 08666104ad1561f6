"""The per-merchant limits on Redis: both windows in one round trip, same decisions."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from metrics_connect.ratelimit import MerchantRateLimiter
from tests.reliability.conftest import count_redis_sends
from tests.reliability.test_redis_outage import redis_keys


async def test_a_hit_is_one_round_trip_and_the_second_window_refuses(
    live_redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = MerchantRateLimiter(live_redis_url)
    key = str(uuid.uuid4())
    await limiter.hit(key, per_second=2, per_minute=100)  # loads the script
    sends = count_redis_sends(monkeypatch)
    second = await limiter.hit(key, per_second=2, per_minute=100)
    assert len(sends) == 1
    refused = await limiter.hit(key, per_second=2, per_minute=100)
    assert second.allowed and second.remaining == 98 and second.limit == 100
    assert not refused.allowed
    assert refused.retry_after >= 1
    assert refused.remaining == 98  # a refused hit does not spend the minute's budget
    assert redis_keys(live_redis_url, key) == 2


async def test_the_minute_window_refuses_once_spent(live_redis_url: str) -> None:
    limiter = MerchantRateLimiter(live_redis_url)
    key = str(uuid.uuid4())
    decisions = [await limiter.hit(key, per_second=100, per_minute=3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert 1 <= decisions[-1].retry_after <= 60


async def test_hits_at_once_share_round_trips_and_count_as_one_by_one(
    live_redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = MerchantRateLimiter(live_redis_url)
    await limiter.hit(str(uuid.uuid4()), per_second=2, per_minute=100)  # loads the script
    key, other = str(uuid.uuid4()), str(uuid.uuid4())
    sends = count_redis_sends(monkeypatch)
    decisions = await asyncio.gather(
        *(limiter.hit(key, per_second=5, per_minute=100) for _ in range(20)),
        limiter.hit(other, per_second=5, per_minute=3),
    )
    assert len(sends) <= 2  # the first alone, the rest together
    mine = decisions[:20]
    assert sum(d.allowed for d in mine) == 5
    assert sorted(d.remaining for d in mine if d.allowed) == [95, 96, 97, 98, 99]
    assert all(d.retry_after >= 1 for d in mine if not d.allowed)
    assert decisions[20].allowed and decisions[20].remaining == 2
    assert redis_keys(live_redis_url, key) == 2


async def test_a_failed_call_degrades_every_hit_waiting_on_it(
    live_redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = MerchantRateLimiter(live_redis_url)

    async def refused(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(limiter, "_windows", refused)
    decisions = await asyncio.gather(
        *(limiter.hit(str(uuid.uuid4()), per_second=5, per_minute=100) for _ in range(5))
    )
    assert all(d.allowed and d.shared_version is None for d in decisions)  # counted in memory
