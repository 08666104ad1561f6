"""The HubSpot connector against the emulator: the 10,000-result cap crossed by new
searches, an expired token refreshed through the hubspot_login provider's emulator (30
minutes, the refresh token rotated), and what each upstream failure becomes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from metrics_connect.connectors.base import (
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamRateLimited,
)
from metrics_connect.networks.hubspot_crm.connector.hooks import HubSpotCrmConnector
from metrics_connect.networks.hubspot_crm.emulator.data import CrmData
from metrics_connect.networks.hubspot_crm.emulator.network import build_oauth, build_sandbox
from metrics_connect.networks.registry import oauth_provider
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.oauth_server import sandbox_client
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.upstream import Hosts, connector_context, frozen_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
API = "http://hubspot.test"
OAUTH = "http://oauth.hubspot.test"


@pytest.fixture
def sandbox() -> Iterator[SandboxNetwork]:
    with frozen_sandbox(build_sandbox(), NOW) as built:
        yield built


def connector(
    sandbox: SandboxNetwork, credentials: dict[str, Any] | None = None, oauth: Any = None
) -> HubSpotCrmConnector:
    """On the CRM emulator; tokens refreshed at the OAuth emulator, on its own host."""
    client_id, secret = sandbox_client("hubspot_login")
    ctx = connector_context(
        sandbox,
        API,
        "hubspot-test",
        dict(credentials or sandbox.demo_account.credentials),
        transport=Hosts(sandbox.app, oauth.app if oauth is not None else sandbox.app, OAUTH),
        hubspot_login_token_url=f"{OAUTH}/oauth/v3/token",
        hubspot_login_client_id=client_id,
        hubspot_login_client_secret=secret,
    )
    return HubSpotCrmConnector(ctx)


async def sync_all(hubspot: HubSpotCrmConnector, dataset: str) -> tuple[set[str], int]:
    cursor, seen, pages = None, set(), 0
    while True:
        page = await hubspot.fetch_records(dataset, cursor)
        seen |= {r.id for r in page.records}
        seen -= set(page.deleted_ids)
        cursor, pages = page.cursor, pages + 1
        if not page.more:
            return seen, pages


async def test_a_sync_crosses_the_search_cap_with_new_searches(
    sandbox: SandboxNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real cap is 10,000 results; the emulator's and the connector's are lowered
    # together so that a small portal crosses it.
    sandbox.app.state.api.search_cap = 600  # type: ignore[attr-defined]
    streams = HubSpotCrmConnector.streams
    lowered = streams.model_copy(update={"extra": {**streams.extra, "search_cap": 600}})
    monkeypatch.setattr(HubSpotCrmConnector, "streams", lowered)
    afters: list[str | None] = []
    body_of = HubSpotCrmConnector._search_body

    def recorded(self: HubSpotCrmConnector, dataset: str, since: int, after: str | None) -> Any:
        afters.append(after)
        return body_of(self, dataset, since, after)

    monkeypatch.setattr(HubSpotCrmConnector, "_search_body", recorded)
    seen, pages = await sync_all(connector(sandbox), "deals")
    data: CrmData = sandbox.data
    assert seen == {r.id for r, _ in data.live("deals", NOW)} and len(seen) > 1200
    # Three pages a search (after 200, 400), then a new search from the last instant.
    assert afters[:4] == [None, "200", "400", None]
    assert all(a is None or int(a) + 200 <= 600 for a in afters)
    assert sandbox.controls.calls.by_endpoint["POST /crm/v3/objects/deals/search"] == pages


async def test_an_expired_token_is_refreshed_and_the_refresh_token_rotates(
    sandbox: SandboxNetwork,
) -> None:
    provider = oauth_provider("hubspot_login")
    assert provider is not None
    oauth = build_oauth(provider.spec)
    client_id, _ = sandbox_client("hubspot_login")
    granted = oauth._tokens(client_id, ("oauth", "crm.objects.deals.read"))  # a code's grant
    assert granted["expires_in"] == 1800  # HubSpot's 30 minutes
    refresh = granted["refresh_token"]
    expired = "sandbox-expired-access"
    sandbox.controls.switches.expired_tokens.add(expired)
    hubspot = connector(sandbox, {"access_token": expired, "refresh_token": refresh}, oauth)
    page = await hubspot.fetch_records("goal_targets", None)
    assert page.records
    credentials = hubspot.ctx.credentials
    assert credentials["access_token"] != expired
    assert credentials["refresh_token"] != refresh  # rotated: the old one is spent
    again = connector(sandbox, {"access_token": expired, "refresh_token": refresh}, oauth)
    with pytest.raises(IntegrationExpired):
        await again.fetch_records("goal_targets", None)


async def test_failures_become_the_contracts_errors(sandbox: SandboxNetwork) -> None:
    revoked = "sandbox-revoked-access"
    sandbox.controls.switches.revoked_tokens.add(revoked)
    with pytest.raises(IntegrationRevoked, match="scopes"):
        await connector(sandbox, {"access_token": revoked}).fetch_records("deals", None)
    with pytest.raises(IntegrationExpired):
        await connector(sandbox, {"access_token": "not-a-hubspot-token"}).fetch_records(
            "deals", None
        )
    sandbox.controls.switches.rate_limit_next = 50
    with pytest.raises(UpstreamRateLimited, match="ten_secondly_rolling"):
        await connector(sandbox).fetch_records("deals", None)
    sandbox.controls.switches.rate_limit_next = 1  # one burst: retried within the budget
    page = await connector(sandbox).fetch_records("goal_targets", None)
    assert page.records


async def test_account_info_and_explain_calls(sandbox: SandboxNetwork) -> None:
    hubspot = connector(sandbox)
    info = await hubspot.account_info()
    assert (info.timezone, info.currency) == ("America/Sao_Paulo", "BRL")
    calls = hubspot.plan_record_calls("deals", None)
    assert [c.path for c in calls] == [
        "crm/v3/owners",
        "crm/v3/pipelines/deals",
        "crm/v3/objects/deals/search",
        "crm/v3/objects/deals",
    ]
    assert all(c.estimated for c in calls)


async def test_the_connect_page_lists_the_portal(sandbox: SandboxNetwork) -> None:
    from metrics_connect.networks.hubspot_crm import accounts

    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport) as http:
        [portal] = await accounts.list_accounts(http, API, "", DEMO_ACCESS_TOKEN)
    assert portal.external_id == sandbox.demo_account.external_id
    assert portal.timezone == "America/Sao_Paulo" and "BRL" in portal.detail
