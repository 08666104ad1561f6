"""The ActiveCampaign connector against the emulator, without the service: the account URL
vetted by the SSRF guard before every call (a resolver stub; no connection made), the
full listing's paging and `listed_all`, explain's planned calls, and every upstream
failure classified (refused key, 429 with its Retry-After, 5xx, a bad filter)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from metrics_connect.connectors.base import (
    ConnectorContext,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransient,
)
from metrics_connect.jobs import ssrf
from metrics_connect.networks.active_campaign.connector.hooks import ActiveCampaignConnector
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.active_campaign.conftest import BASE_URL, NOW, ZONE

# One loop for the module: the 5-calls-a-second quota is shared by the account's calls.
pytestmark = pytest.mark.asyncio(loop_scope="module")


class Counted(httpx.AsyncBaseTransport):
    """An ASGI transport that counts the requests that reach it."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(str(request.url))
        return await self.inner.handle_async_request(request)


def resolving(address: str) -> Callable[[str, int], Any]:
    async def resolver(host: str, port: int) -> list[str]:
        return [address]

    return resolver


def connector(
    app: Any, credentials: dict[str, Any], budget: float = 2.0, account: str = "acme"
) -> tuple[ActiveCampaignConnector, Counted]:
    """`account` keys our side of the quota (5 calls a second per account)."""
    transport = Counted(app)
    settings = Settings(upstream_retry_budget_seconds=budget)
    http = httpx.AsyncClient(transport=transport, timeout=15.0)
    ctx = ConnectorContext("ac-test", account, credentials, str(ZONE), http, BASE_URL, settings)
    return ActiveCampaignConnector(ctx, now=lambda: NOW), transport


@pytest.fixture
def sandbox(
    sandbox_clock: tuple[SandboxNetwork, Any],
) -> Iterator[SandboxNetwork]:
    network, _ = sandbox_clock
    switches = network.controls.switches
    yield network
    switches.revoked_tokens.clear()
    switches.server_error_ratio = 0.0
    switches.rate_limit_next = 0


@pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "127.0.0.1"])
async def test_an_account_url_resolving_to_a_private_address_is_never_called(
    sandbox: SandboxNetwork, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    monkeypatch.setattr(ssrf, "system_resolver", resolving(address))
    credentials = {**sandbox.demo_account.credentials, "account_url": "https://acme.api-us1.com"}
    ac, transport = connector(sandbox.app, credentials)
    with pytest.raises(UpstreamError) as raised:
        await ac.fetch_records("deals", None)
    assert raised.value.upstream_code == "account_url_refused"
    assert f"acme.api-us1.com ({address})" in raised.value.message
    assert transport.calls == []
    # The same account on a public address is called at the URL the customer gave.
    monkeypatch.setattr(ssrf, "system_resolver", resolving("93.184.215.14"))
    credentials["account_url"] = "https://acme.api-us1.com/api/3/"  # pasted with the path
    ac, transport = connector(sandbox.app, credentials)
    page = await ac.fetch_records("deals", None)
    assert page.records and transport.calls[0].startswith("https://acme.api-us1.com/api/3/")


async def test_a_full_listing_pages_by_offset_and_says_listed_all(
    sandbox: SandboxNetwork,
) -> None:
    ac, transport = connector(sandbox.app, sandbox.demo_account.credentials)
    live = sandbox.data.live("deals", NOW)
    cursor, seen, pages = None, [], []
    while True:
        page = await ac.fetch_records("deals", cursor)
        seen += [r.id for r in page.records]
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            break
    assert seen == [record.id for record, _ in live]
    assert len(pages) == -(-len(live) // 100)
    assert pages[-1].listed_all and json.loads(pages[-1].cursor or "{}") == {"offset": 0}
    # A listing resumed mid-way says nothing of what it did not see.
    fresh, _ = connector(sandbox.app, sandbox.demo_account.credentials)
    last = await fresh.fetch_records("deals", json.dumps({"offset": 100 * (len(pages) - 1)}))
    assert not last.more and not last.listed_all
    deal = next(r for r in pages[0].records if r.fields["won"])
    assert deal.fields["closed_at"] == deal.fields["updated_at"]
    assert deal.fields["currency"] in ("USD", "BRL")
    listed = [c for c in transport.calls if "/deals?" in c]
    assert all("limit=100" in c for c in listed)


@pytest.mark.parametrize("dataset", ["deals", "contacts", "campaigns", "contact_automations"])
async def test_explain_announces_the_calls_a_sync_step_makes(
    sandbox: SandboxNetwork, dataset: str
) -> None:
    ac, transport = connector(sandbox.app, sandbox.demo_account.credentials)
    cursor = json.dumps({"offset": 200})
    planned = ac.plan_record_calls(dataset, cursor)
    await ac.fetch_records(dataset, cursor)
    made = [httpx.URL(call) for call in transport.calls]
    assert [("GET", "/api/3/" + p.path) for p in planned] == [("GET", u.path) for u in made]
    assert dict(made[-1].params) == planned[-1].params
    account = await ac.account_info()
    assert account.timezone == "America/Chicago"


async def test_every_failure_is_classified(sandbox: SandboxNetwork) -> None:
    credentials = sandbox.demo_account.credentials
    switches = sandbox.controls.switches
    switches.revoked_tokens.add(str(credentials["access_token"]))
    ac, _ = connector(sandbox.app, credentials)
    with pytest.raises(IntegrationRevoked) as revoked:
        await ac.fetch_records("deals", None)
    assert "ActiveCampaign: Forbidden" in revoked.value.message
    assert str(credentials["access_token"]) not in revoked.value.message
    switches.revoked_tokens.clear()
    ac, _ = connector(sandbox.app, credentials)
    with pytest.raises(UpstreamError) as bad:
        await ac.client.get("deals", {"filters[updated_after]": "yesterday"})
    assert bad.value.code == "upstream_error" and "filters[updated_after]" in bad.value.message
    switches.rate_limit_next = 50
    # An account whose quota no earlier call spent: the refusal is the upstream's 429.
    ac, _ = connector(sandbox.app, credentials, budget=0.5, account="acme-limited")
    with pytest.raises(UpstreamRateLimited) as limited:
        await ac.fetch_records("deals", None)
    assert limited.value.retry_after == 1
    switches.rate_limit_next, switches.server_error_ratio = 0, 1.0
    ac, _ = connector(sandbox.app, credentials, budget=3.0)  # the quota refills first
    with pytest.raises(UpstreamTransient):
        await ac.fetch_records("deals", None)
