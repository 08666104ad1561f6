"""The service's long-lived parts, built once per process from the settings.

Other parts attach what they need on start (connectors' HTTP clients, the sync
scheduler, the in-process job runner) through `on_startup`/`on_shutdown`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from metrics_connect.accounts.auth_cache import VERSION_KEY, AuthCache
from metrics_connect.accounts.credentials import Vault, resolve_key, vault_for_key
from metrics_connect.db.engine import Database
from metrics_connect.networks.registry import network
from metrics_connect.ratelimit import MerchantRateLimiter
from metrics_connect.settings import Settings, network_setting

Hook = Callable[["Runtime"], Awaitable[None]]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    vault: Vault
    rate_limiter: MerchantRateLimiter
    auth_cache: AuthCache
    # Free slots for the other parts (engine, jobs, sync, sandbox) keyed by name.
    services: dict[str, Any] = field(default_factory=dict)
    startup_hooks: list[Hook] = field(default_factory=list)
    shutdown_hooks: list[Hook] = field(default_factory=list)
    # Tests mount an emulator in-process by slug (httpx.ASGITransport); production: None.
    upstream_transports: dict[str, httpx.AsyncBaseTransport] = field(default_factory=dict)
    _http_clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def http_client(self, slug: str) -> httpx.AsyncClient:
        """One pooled HTTP client per network, shared by all its integrations."""
        client = self._http_clients.get(slug)
        if client is None:
            client = httpx.AsyncClient(
                transport=self.upstream_transports.get(slug),
                timeout=self.settings.upstream_timeout_seconds,
                follow_redirects=False,
                headers={"User-Agent": "metrics-connect"},
            )
            self._http_clients[slug] = client
        return client

    def upstream_base_url(self, slug: str) -> str:
        found = network(slug)
        if found is None:
            raise KeyError(f"unknown network {slug!r}")
        return network_setting(self.settings, found.spec.base_url_setting).rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            vault=vault_for_key(resolve_key(settings)),
            rate_limiter=MerchantRateLimiter(settings.redis_url, VERSION_KEY),
            auth_cache=AuthCache(settings.auth_cache_seconds, redis_url=settings.redis_url),
        )

    def on_startup(self, hook: Hook) -> None:
        self.startup_hooks.append(hook)

    def on_shutdown(self, hook: Hook) -> None:
        self.shutdown_hooks.append(hook)

    async def start(self) -> None:
        for hook in self.startup_hooks:
            await hook(self)

    async def stop(self) -> None:
        for hook in reversed(self.shutdown_hooks):
            await hook(self)
        for client in self._http_clients.values():
            await client.aclose()
        self._http_clients.clear()
        await self.db.dispose()
