"""The auth cache: what it keeps, for how long, and what drops an entry at once."""

from __future__ import annotations

from datetime import UTC, datetime

from metrics_connect.accounts.auth_cache import AuthCache
from metrics_connect.accounts.principals import CustomerPrincipal, MerchantPrincipal

T0 = datetime(2026, 11, 1, tzinfo=UTC)


class FakeTimer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def merchant(merchant_id: int) -> MerchantPrincipal:
    return MerchantPrincipal(merchant_id, f"m{merchant_id}", "M", "h", None, None, 1, 1, T0, T0)


def customer(customer_id: int, merchant_id: int) -> CustomerPrincipal:
    return CustomerPrincipal(
        customer_id, f"c{customer_id}", merchant_id, "C", "h", True, T0, T0, T0
    )


def test_entries_expire_after_the_ttl() -> None:
    timer = FakeTimer()
    cache = AuthCache(5.0, timer)
    cache.merchants.put("hash", merchant(1))
    timer.now = 4.9
    assert cache.merchants.get("hash") == merchant(1)
    timer.now = 5.1
    assert cache.merchants.get("hash") is None


def test_zero_ttl_keeps_nothing() -> None:
    cache = AuthCache(0)
    cache.merchants.put("hash", merchant(1))
    cache.customers.put((1, "hash"), customer(7, 1))
    assert cache.merchants.get("hash") is None
    assert cache.customers.get((1, "hash")) is None


async def test_forgetting_a_merchant_drops_its_customers_only() -> None:
    cache = AuthCache(60, FakeTimer())
    cache.merchants.put("a", merchant(1))
    cache.merchants.put("b", merchant(2))
    cache.customers.put((1, "x"), customer(10, 1))
    cache.customers.put((2, "y"), customer(20, 2))
    await cache.forget_merchant(1)
    assert cache.merchants.get("a") is None
    assert cache.customers.get((1, "x")) is None
    assert cache.merchants.get("b") == merchant(2)
    assert cache.customers.get((2, "y")) == customer(20, 2)


def test_a_moved_shared_version_drops_every_entry() -> None:
    cache = AuthCache(60.0)
    cache.merchants.put("hash", merchant(1))
    assert not cache.observe(None)  # counted in memory: nothing learnt
    assert not cache.observe(3)  # the first version seen: entries kept
    assert cache.merchants.get("hash") == merchant(1)
    assert not cache.observe(3)
    assert cache.merchants.get("hash") == merchant(1)
    assert cache.observe(4)  # another process changed accounts
    assert cache.merchants.get("hash") is None
