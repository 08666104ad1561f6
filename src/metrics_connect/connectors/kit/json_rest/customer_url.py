"""A JSON REST client for APIs served at a URL the customer typed (an account subdomain,
a self-hosted store): the URL comes from the integration's credentials, is vetted by the
SSRF guard before every call (a name may resolve elsewhere tomorrow) and the call goes
through the guard's pinned transport (connect only to the address just vetted). Without
that credential (the demo's integration) the network's base URL setting applies, with
the same API path."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import httpx

from metrics_connect.connectors.base import UpstreamError
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.jobs.ssrf import WebhookGuard, WebhookURLRefused
from metrics_connect.jobs.transport import PinnedTransport

# Per event loop and allowlist: one pooled guarded client (a pool's locks belong to the
# loop that made it, and tests run each in a loop of its own).
_PINNED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


class CustomerUrlClient(JsonRestClient):
    url_credential = "account_url"  # the credential holding the customer's URL
    api_path = ""  # what follows it up to the API's root (`/api/3`)

    @property
    def customer_url(self) -> str | None:
        url = self.ctx.credentials.get(self.url_credential)
        return self.api_root(str(url)) if url else None

    def api_root(self, url: str) -> str:
        root = url.strip().rstrip("/")  # as typed, perhaps with the API path pasted along
        return (root.removesuffix(self.api_path) if self.api_path else root) + self.api_path

    def url(self, path: str) -> str:
        root = self.customer_url or self.api_root(self.ctx.base_url)
        return f"{root}/{path.lstrip('/')}"

    async def send(self, endpoint: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.customer_url is not None:
            allowlist = str(getattr(self.ctx.settings, "webhook_allowlist", "") or "")
            try:
                await WebhookGuard(allowlist).vet(self.url(path))
            except WebhookURLRefused as exc:
                reason = exc.reason.split(";")[0].rstrip(".")  # the guard speaks of webhooks
                raise UpstreamError(
                    f"The account URL is refused: {reason[:1].lower()}{reason[1:]}.",
                    upstream_code="account_url_refused",
                ) from None
            http = self.ctx.http
            if isinstance(getattr(http, "_transport", None), httpx.AsyncHTTPTransport):
                # Not routed elsewhere (tests): connect only to the address just vetted.
                pinned = _PINNED.setdefault(asyncio.get_running_loop(), {})
                if allowlist not in pinned:
                    guarded = PinnedTransport(WebhookGuard(allowlist))
                    pinned[allowlist] = httpx.AsyncClient(transport=guarded, timeout=http.timeout)
                self.ctx.http = pinned[allowlist]
        return await super().send(endpoint, method, path, **kwargs)
