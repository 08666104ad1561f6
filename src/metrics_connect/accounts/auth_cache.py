"""Recently authenticated merchants and customers (by token hash) and the integrations
they asked for, kept a few seconds.

Authentication and the integration lookup were most of a warm metrics request's cost:
three database round trips before any work. A hit here costs a dictionary lookup.
Changes made through this process (a customer renamed, deleted or marked paying; an
integration deleted, reconnected or found expired) drop the entries at once; changes
made by another process are seen when the entry expires (`auth_cache_seconds`; 0
turns the cache off).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Generic, TypeVar

from cachetools import TTLCache

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.accounts.principals import CustomerPrincipal, MerchantPrincipal

MAX_ENTRIES = 10_000

K = TypeVar("K")
V = TypeVar("V")


class _Expiring(Generic[K, V]):
    def __init__(self, ttl_seconds: float, timer: Callable[[], float]) -> None:
        self.enabled = ttl_seconds > 0
        self._entries: TTLCache[K, V] = TTLCache(MAX_ENTRIES, max(ttl_seconds, 0.001), timer=timer)
        self._loading: dict[K, asyncio.Future[V | None]] = {}
        self._drops = 0  # a load begun before a drop may hold what was dropped

    def get(self, key: K) -> V | None:
        return self._entries.get(key) if self.enabled else None

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The entry, else what `load()` finds (kept unless None).

        Misses of one key at once share one load: when an entry expires under load,
        every request in flight misses it together, and each read the database on a
        connection of its own (on PostgreSQL, past the pool's size: connections
        opened and closed, a server process each). Shielded: a waiter cancelled does
        not cancel the others' load.
        """
        cached = self.get(key)
        if cached is not None or not self.enabled:
            return cached if cached is not None else await load()
        pending = self._loading.get(key)
        if pending is None:
            loading = self._load(key, load, self._drops)
            pending = self._loading[key] = asyncio.ensure_future(loading)
        return await asyncio.shield(pending)

    async def _load(self, key: K, load: Callable[[], Awaitable[V | None]], drops: int) -> V | None:
        try:
            value = await load()
            if value is not None and drops == self._drops:
                self.put(key, value)
            return value
        finally:
            if self._loading.get(key) is asyncio.current_task():  # not a newer load's
                del self._loading[key]

    def put(self, key: K, value: V) -> None:
        if self.enabled:
            self._entries[key] = value

    def drop_where(self, matches: Callable[[V], bool]) -> None:
        self._forget_loads()
        for key in [k for k, v in self._entries.items() if matches(v)]:
            with suppress(KeyError):  # expired meanwhile
                del self._entries[key]

    def values(self) -> list[V]:
        return list(self._entries.values())

    def clear(self) -> None:
        self._forget_loads()
        self._entries.clear()

    def _forget_loads(self) -> None:
        """Loads under way may have read what is being dropped: their results are
        answered to their waiters but not kept, and the next miss loads afresh."""
        self._drops += 1
        self._loading.clear()


class AuthCache:
    def __init__(self, ttl_seconds: float, timer: Callable[[], float] = time.monotonic) -> None:
        # Merchant by token hash; customer by (merchant id, token hash).
        self.merchants: _Expiring[str, MerchantPrincipal] = _Expiring(ttl_seconds, timer)
        self.customers: _Expiring[tuple[int, str], CustomerPrincipal] = _Expiring(
            ttl_seconds, timer
        )
        # Integration by (customer id, integration uuid): a detached row, only read.
        self.integrations: _Expiring[tuple[int, str], CustomerIntegration] = _Expiring(
            ttl_seconds, timer
        )

    def forget_merchant(self, merchant_id: int) -> None:
        self.merchants.drop_where(lambda m: m.id == merchant_id)
        for customer in [c for c in self.customers.values() if c.merchant_id == merchant_id]:
            self.forget_customer(customer.id)

    def forget_customer(self, customer_id: int) -> None:
        self.customers.drop_where(lambda c: c.id == customer_id)
        self.integrations.drop_where(lambda i: i.customer_id == customer_id)

    def forget_integration(self, integration_id: int) -> None:
        self.integrations.drop_where(lambda i: i.id == integration_id)

    def clear(self) -> None:
        self.merchants.clear()
        self.customers.clear()
        self.integrations.clear()
