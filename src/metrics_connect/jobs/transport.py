"""An httpx transport that connects only to addresses the SSRF guard vetted.

Every request is vetted at send time (resolve, check) and then sent to the vetted
IP itself: the URL's host is replaced by the address, the Host header keeps the
name, and for https the TLS server name (SNI and certificate check) stays the
name too. Nothing re-resolves the name after the check, so DNS rebinding has no
second lookup to win.
"""

from __future__ import annotations

import ssl
from collections import OrderedDict
from functools import cache

import httpx

from metrics_connect.jobs.ssrf import WebhookGuard

# Connections are pooled per host name, so that a TLS connection opened for one
# name (its SNI, its certificate) never carries a request for another name that
# happens to share the address.
MAX_POOLS = 256


@cache
def tls_context() -> ssl.SSLContext:
    """Loading the CA bundle is slow: once per process, shared by every pool."""
    return httpx.create_ssl_context()


class PinnedTransport(httpx.AsyncBaseTransport):
    def __init__(self, guard: WebhookGuard, *, max_connections_per_host: int = 20) -> None:
        self.guard = guard
        self._limits = httpx.Limits(
            max_connections=max_connections_per_host,
            max_keepalive_connections=max_connections_per_host,
        )
        self._pools: OrderedDict[tuple[str, str, int], httpx.AsyncHTTPTransport] = OrderedDict()

    async def _pool(self, key: tuple[str, str, int]) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get(key)
        if pool is None:
            pool = httpx.AsyncHTTPTransport(verify=tls_context(), limits=self._limits, retries=0)
            self._pools[key] = pool
            if len(self._pools) > MAX_POOLS:
                _, oldest = self._pools.popitem(last=False)
                await oldest.aclose()
        else:
            self._pools.move_to_end(key)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Raises WebhookURLRefused before any connection is attempted.
        target = await self.guard.vet(request.url)
        if "Host" not in request.headers:
            request.headers["Host"] = request.url.netloc.decode("ascii")
        request.url = request.url.copy_with(host=target.address)
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": target.host}
        pool = await self._pool((request.url.scheme, target.host, target.port))
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            await pool.aclose()
