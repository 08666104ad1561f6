"""The per-merchant limiter's decisions on the in-memory storage (windows start at their
first hit, so a test's few quick hits always share one)."""

from __future__ import annotations

import uuid

from metrics_connect.ratelimit import MerchantRateLimiter


async def test_counts_down_the_minute_and_refuses_past_the_second_limit() -> None:
    limiter = MerchantRateLimiter(None)
    key = str(uuid.uuid4())
    first = await limiter.hit(key, per_second=2, per_minute=10)
    second = await limiter.hit(key, per_second=2, per_minute=10)
    third = await limiter.hit(key, per_second=2, per_minute=10)
    assert (first.allowed, first.limit, first.remaining) == (True, 10, 9)
    assert (second.allowed, second.remaining) == (True, 8)
    # Refused by the per-second window: the minute's budget is untouched by the refusal.
    assert (third.allowed, third.remaining, third.retry_after) == (False, 8, 1)


async def test_refuses_past_the_minute_limit_with_nothing_remaining() -> None:
    limiter = MerchantRateLimiter(None)
    key = str(uuid.uuid4())
    decisions = [await limiter.hit(key, per_second=100, per_minute=3) for _ in range(5)]
    # A window starts at its first hit (limits' fixed window), so all five share one.
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert all(50 <= d.retry_after <= 60 for d in decisions[3:])


async def test_merchants_have_separate_budgets() -> None:
    limiter = MerchantRateLimiter(None)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    assert (await limiter.hit(a, per_second=1, per_minute=10)).allowed
    assert not (await limiter.hit(a, per_second=1, per_minute=10)).allowed
    assert (await limiter.hit(b, per_second=1, per_minute=10)).allowed
