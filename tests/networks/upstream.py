"""A connector against its network's emulator in-process, without the service: the
emulator stopped at a given now, and a connector context on its demo account."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import httpx

from metrics_connect import clock
from metrics_connect.connectors.base import ConnectorContext
from metrics_connect.sandbox.registry import SandboxNetwork


@contextmanager
def frozen_sandbox(sandbox: SandboxNetwork, now: datetime) -> Iterator[SandboxNetwork]:
    """The emulator and the service stopped at `now` until the block ends."""
    sandbox.controls.clock.set(now)
    clock.set_clock(lambda: now)
    try:
        yield sandbox
    finally:
        clock.set_clock(None)


class Hosts(httpx.AsyncBaseTransport):
    """The network's emulator, and its OAuth provider's emulator on the host of `oauth_url`."""

    def __init__(self, api: Any, oauth: Any, oauth_url: str) -> None:
        self.api = httpx.ASGITransport(app=api)
        self.oauth = httpx.ASGITransport(app=oauth)
        self.oauth_host = urlsplit(oauth_url).hostname

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self.oauth if request.url.host == self.oauth_host else self.api
        return await target.handle_async_request(request)


def connector_context(
    sandbox: SandboxNetwork,
    base_url: str,
    integration_uuid: str,
    credentials: dict[str, Any],
    *,
    external_id: str | None = None,
    timezone: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **settings: Any,
) -> ConnectorContext:
    """A context on the emulator's demo account (or `external_id`), its calls to
    `base_url` served in-process by the emulator (or by `transport`); the upstream retry
    budget is 0.3 s unless `settings` say otherwise."""
    http = httpx.AsyncClient(
        transport=transport or httpx.ASGITransport(app=sandbox.app), base_url=base_url
    )
    return ConnectorContext(
        integration_uuid=integration_uuid,
        external_id=external_id or sandbox.demo_account.external_id,
        credentials=credentials,
        timezone=timezone or sandbox.demo_account.timezone,
        http=http,
        base_url=base_url,
        settings=SimpleNamespace(**{"upstream_retry_budget_seconds": 0.3, **settings}),
    )
