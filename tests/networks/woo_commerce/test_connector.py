"""The WooCommerce connector against the emulator: paging and the incremental cursor, the
error map (revoked and write-only keys, 429, 5xx), a slow store and an HTML answer
failing precisely, and the SSRF guard on every call to a customer's store URL (a
private address refused without any connection, with a resolver stub)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from metrics_connect.connectors.base import (
    ConnectorContext,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransient,
)
from metrics_connect.jobs import ssrf
from metrics_connect.networks.woo_commerce.connector.hooks import WooCommerceConnector
from metrics_connect.networks.woo_commerce.emulator.data import StoreData
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.woo_commerce.conftest import NOW

KEYS = {"consumer_key": "ck_5a1d0c1f2e3b4a5968778695a4b3c2d1e0f1a2b3"}


class Counted(httpx.AsyncBaseTransport):
    """An ASGI transport that counts the requests that reach it."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(str(request.url))
        return await self.inner.handle_async_request(request)


def connector(
    app: Any,
    credentials: dict[str, Any],
    *,
    timeout: float = 15.0,
    budget: float = 2.0,
) -> tuple[WooCommerceConnector, Counted]:
    transport = Counted(app)
    settings = Settings(upstream_retry_budget_seconds=budget)
    http = httpx.AsyncClient(transport=transport, timeout=timeout)
    ctx = ConnectorContext(
        "woo-test", "store", credentials, "America/Sao_Paulo", http, "http://store.test", settings
    )
    return WooCommerceConnector(ctx, now=lambda: NOW), transport


@pytest.fixture
def sandbox(store_sandbox: SandboxNetwork) -> SandboxNetwork:
    store_sandbox.controls.clock.set(NOW)
    switches = store_sandbox.controls.switches
    yield store_sandbox  # type: ignore[misc]
    switches.revoked_tokens.clear()
    switches.latency_seconds = switches.server_error_ratio = 0.0
    switches.rate_limit_next = 0


async def sync(woo: WooCommerceConnector, dataset: str, cursor: str | None) -> tuple[int, str]:
    seen = 0
    while True:
        page = await woo.fetch_records(dataset, cursor)
        assert len(page.records) <= 100 * (3 if dataset == "order_lines" else 1)
        seen += len(page.records)
        cursor = page.cursor
        if not page.more:
            assert cursor is not None
            return seen, cursor


async def test_pages_then_only_what_changed_since_the_cursor(sandbox: SandboxNetwork) -> None:
    data: StoreData = sandbox.data
    woo, transport = connector(sandbox.app, sandbox.demo_account.credentials)
    seen, cursor = await sync(woo, "orders", None)
    live = [o for o in data.placed(NOW) if o.status(NOW) != "trash"]
    assert seen == len(live)
    state = json.loads(cursor)
    assert state["since"] == max(o.modified(NOW) for o in live).strftime("%Y-%m-%dT%H:%M:%S")
    later = NOW + timedelta(days=1)
    sandbox.controls.clock.set(later)
    woo.clock = lambda: later
    transport.calls.clear()
    changed, _ = await sync(woo, "orders", cursor)
    # Asked one second before the cursor (WooCommerce's bound is exclusive).
    since = datetime.fromisoformat(state["since"]).replace(tzinfo=UTC) - timedelta(seconds=1)
    expected = [
        o for o in data.placed(later) if o.status(later) != "trash" and o.modified(later) > since
    ]
    assert 0 < changed == len(expected) < 100
    assert all("modified_after=" in call for call in transport.calls if "/orders?" in call)


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("revoked", IntegrationRevoked, "Consumer key is invalid."),
        ("write_key", IntegrationRevoked, "Sorry, you cannot list resources."),
        ("rate_limited", UpstreamRateLimited, "Too many requests."),
        ("server_error", UpstreamTransient, "critical error"),
    ],
)
async def test_the_error_map(
    sandbox: SandboxNetwork, fault: str, error: type[UpstreamError], message: str
) -> None:
    credentials = dict(sandbox.demo_account.credentials)
    switches = sandbox.controls.switches
    if fault == "revoked":
        switches.revoked_tokens.add(credentials["consumer_key"])
    elif fault == "write_key":
        key = sandbox.data.spec["keys"][1]
        credentials = {k: key[k] for k in ("consumer_key", "consumer_secret")}
    elif fault == "rate_limited":
        switches.rate_limit_next = 1000
    else:
        switches.server_error_ratio = 1.0
    woo, _ = connector(sandbox.app, credentials, budget=0.3)
    with pytest.raises(error) as raised:
        await woo.fetch_records("orders", None)
    assert message in raised.value.message


async def test_a_slow_store_fails_with_a_timeout(sandbox: SandboxNetwork) -> None:
    sandbox.controls.switches.latency_seconds = 0.5
    served = serve_in_background(sandbox.app)  # over a socket: the timeout is real
    try:
        async with httpx.AsyncClient(timeout=0.05) as http:
            ctx = ConnectorContext(
                "woo-test",
                "store",
                sandbox.demo_account.credentials,
                "America/Sao_Paulo",
                http,
                served.base_url,
                Settings(upstream_retry_budget_seconds=0.2),
            )
            with pytest.raises(UpstreamTransient) as raised:
                await WooCommerceConnector(ctx, now=lambda: NOW).fetch_records("orders", None)
    finally:
        served.stop()
    assert raised.value.message == "timeout calling the WooCommerce store (wp-json/wc/v3/orders)"


async def test_a_store_answering_html_fails_saying_so(sandbox: SandboxNetwork) -> None:
    async def maintenance(request: Request) -> Response:
        return HTMLResponse("<html><body>Briefly unavailable for maintenance.</body></html>")

    app = Starlette(routes=[Route("/{path:path}", maintenance)])
    woo, _ = connector(app, sandbox.demo_account.credentials)
    with pytest.raises(UpstreamError) as raised:
        await woo.fetch_records("orders", None)
    assert raised.value.upstream_code == "not_json"
    assert "with text/html (HTTP 200), not the WooCommerce REST API" in raised.value.message


def resolving(address: str) -> Callable[[str, int], Any]:
    async def resolver(host: str, port: int) -> list[str]:
        return [address]

    return resolver


async def test_a_store_url_resolving_to_a_private_address_is_never_called(
    sandbox: SandboxNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ssrf, "system_resolver", resolving("10.0.0.5"))
    credentials = {**sandbox.demo_account.credentials, "store_url": "https://shop.example.com"}
    woo, transport = connector(sandbox.app, credentials)
    with pytest.raises(UpstreamError) as raised:
        await woo.fetch_records("orders", None)
    assert raised.value.upstream_code == "store_url_refused"
    assert raised.value.message == (
        "The store URL is refused: the host shop.example.com (10.0.0.5) is a private address."
    )
    assert transport.calls == []
    # The same store on a public address is called, at the URL the customer gave.
    monkeypatch.setattr(ssrf, "system_resolver", resolving("93.184.215.14"))
    woo, transport = connector(sandbox.app, credentials)
    page = await woo.fetch_records("orders", None)
    assert page.records and transport.calls[0].startswith("https://shop.example.com/wp-json/wc/v3/")


@pytest.mark.parametrize("dataset", ["orders", "order_lines", "refunds"])
async def test_explain_announces_the_calls_a_sync_step_makes(
    sandbox: SandboxNetwork, dataset: str
) -> None:
    """The first page's call and the lookups and trash listing a last page makes."""
    woo, transport = connector(sandbox.app, sandbox.demo_account.credentials)
    cursor: str | None = json.dumps({"since": "2026-11-19T12:00:00", "page": 1})
    planned = woo.plan_record_calls(dataset, cursor)
    page = await woo.fetch_records(dataset, cursor)
    assert not page.more  # one day of changes: one page
    made = [httpx.URL(call) for call in transport.calls]
    assert [(p.method, "/" + p.path) for p in planned] == [("GET", u.path) for u in made]
    first = planned[0]
    assert {k: v for k, v in made[0].params.items()} == first.params
    account = await woo.account_info()
    assert (account.timezone, account.currency) == ("America/Sao_Paulo", "BRL")
