"""Misses of one auth-cache key at once share one load (an expiry under load)."""

from __future__ import annotations

import asyncio

import pytest

from metrics_connect.accounts.auth_cache import AuthCache
from metrics_connect.accounts.principals import MerchantPrincipal
from tests.accounts.test_auth_cache import merchant


async def test_concurrent_misses_of_one_key_make_one_load() -> None:
    cache = AuthCache(5.0)
    loads = 0
    release = asyncio.Event()

    async def load() -> MerchantPrincipal:
        nonlocal loads
        loads += 1
        await release.wait()
        return merchant(1)

    waiters = [asyncio.create_task(cache.merchants.get_or_load("hash", load)) for _ in range(16)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiters) == [merchant(1)] * 16
    assert loads == 1
    assert cache.merchants.get("hash") == merchant(1)  # kept for the next requests


async def test_a_failed_or_empty_load_is_not_kept_and_the_next_miss_loads_again() -> None:
    cache = AuthCache(5.0)
    answers: list[MerchantPrincipal | None] = [None, merchant(2)]

    async def load() -> MerchantPrincipal | None:
        return answers.pop(0)

    async def broken() -> MerchantPrincipal | None:
        raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        await cache.merchants.get_or_load("hash", broken)
    assert await cache.merchants.get_or_load("hash", load) is None
    assert await cache.merchants.get_or_load("hash", load) == merchant(2)


async def test_a_cancelled_waiter_does_not_cancel_the_others_load() -> None:
    cache = AuthCache(5.0)
    release = asyncio.Event()

    async def load() -> MerchantPrincipal:
        await release.wait()
        return merchant(3)

    first = asyncio.create_task(cache.merchants.get_or_load("hash", load))
    second = asyncio.create_task(cache.merchants.get_or_load("hash", load))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == merchant(3)


async def test_a_load_under_way_when_its_entries_are_dropped_is_not_kept() -> None:
    # A customer deleted (or renamed) through this process while a request was reading
    # it: what that read found must not come back into the cache afterwards.
    cache = AuthCache(5.0)
    release = asyncio.Event()

    async def stale() -> MerchantPrincipal:
        await release.wait()
        return merchant(4)

    async def fresh() -> MerchantPrincipal:
        return merchant(5)

    begun = asyncio.create_task(cache.merchants.get_or_load("hash", stale))
    await asyncio.sleep(0)
    await cache.forget_merchant(4)
    after = await cache.merchants.get_or_load("hash", fresh)  # does not wait on `begun`
    release.set()
    assert await begun == merchant(4)  # answered to its own request
    assert after == merchant(5)
    assert cache.merchants.get("hash") == merchant(5)
