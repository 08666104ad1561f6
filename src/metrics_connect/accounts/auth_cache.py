"""Recently authenticated merchants and customers (by token hash) and the integrations
they asked for, kept a few seconds.

Authentication and the integration lookup were most of a warm metrics request's cost:
three database round trips before any work. A hit here costs a dictionary lookup.
Changes made through this process (a customer added, renamed, deleted or marked paying;
an integration deleted, reconnected or found expired; the webhook secret rotated) drop
the entries at once. With Redis, each such change also increments a version key
(VERSION_KEY) that the rate limiter reads in the round trip every authenticated
request makes anyway (ratelimit.py): a process that sees the version move drops its
entries and authenticates again, so a deleted customer's token stops working on every
process with the next request. Without Redis (or while it does not answer), changes
made by another process are seen when the entry expires (`auth_cache_seconds`; 0
turns the cache off).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Generic, TypeVar

from cachetools import TTLCache
from redis.asyncio import Redis

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.accounts.principals import CustomerPrincipal, MerchantPrincipal
from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.auth_cache")

MAX_ENTRIES = 10_000
VERSION_KEY = "metrics_connect:auth_version"
# A Redis that stops answering must not hold the change's response for long.
REDIS_TIMEOUT_SECONDS = 1.0

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class MerchantSettings:
    merchant_id: int
    webhook_secret: str
    total_customers: int


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
    def __init__(
        self,
        ttl_seconds: float,
        timer: Callable[[], float] = time.monotonic,
        redis_url: str | None = None,
    ) -> None:
        self._redis = (
            Redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            if redis_url
            else None
        )
        # The shared version these entries were loaded under (None: not seen yet).
        self._version: int | None = None
        # Merchant by token hash; customer by (merchant id, token hash).
        self.merchants: _Expiring[str, MerchantPrincipal] = _Expiring(ttl_seconds, timer)
        self.customers: _Expiring[tuple[int, str], CustomerPrincipal] = _Expiring(
            ttl_seconds, timer
        )
        # GET /merchants/settings' database parts by merchant id: the webhook secret
        # (decrypted) and the number of customers, so the page costs what an
        # authenticated read costs (no round trip, no decryption) while they hold.
        self.merchant_settings: _Expiring[int, MerchantSettings] = _Expiring(ttl_seconds, timer)
        # Integration by (customer id, integration uuid): a detached row, only read.
        self.integrations: _Expiring[tuple[int, str], CustomerIntegration] = _Expiring(
            ttl_seconds, timer
        )

    def observe(self, version: int | None) -> bool:
        """The shared version as a request just read it; True when it moved since
        these entries were loaded: they are dropped, and the caller authenticates
        again."""
        if version is None or version == self._version:
            return False
        moved = self._version is not None
        self._version = version
        if moved:
            self.clear()
        return moved

    async def forget_merchant(self, merchant_id: int) -> None:
        self._drop_merchant(merchant_id)
        await self._publish()

    async def forget_merchant_settings(self, merchant_id: int) -> None:
        """A customer added or removed, or the webhook secret rotated."""
        self.merchant_settings.drop_where(lambda m: m.merchant_id == merchant_id)
        await self._publish()

    async def forget_customer(self, customer_id: int) -> None:
        self._drop_customer(customer_id)
        await self._publish()

    async def forget_integration(self, integration_id: int) -> None:
        self.integrations.drop_where(lambda i: i.id == integration_id)
        await self._publish()

    def _drop_merchant(self, merchant_id: int) -> None:
        self.merchants.drop_where(lambda m: m.id == merchant_id)
        self.merchant_settings.drop_where(lambda m: m.merchant_id == merchant_id)
        for customer in [c for c in self.customers.values() if c.merchant_id == merchant_id]:
            self._drop_customer(customer.id)

    def _drop_customer(self, customer_id: int) -> None:
        self.customers.drop_where(lambda c: c.id == customer_id)
        self.integrations.drop_where(lambda i: i.customer_id == customer_id)

    async def _publish(self) -> None:
        """Tell the other processes (after the change's commit, before its answer)."""
        if self._redis is None:
            return
        try:
            version = int(await self._redis.incr(VERSION_KEY))
        except Exception as exc:  # the change stands; others see it within the TTL
            log.warning("auth_cache_version_unpublished", error=type(exc).__name__)
            return
        if self._version == version - 1:  # nothing else moved: this process is current
            self._version = version

    def clear(self) -> None:
        self.merchants.clear()
        self.merchant_settings.clear()
        self.customers.clear()
        self.integrations.clear()
