"""The Pipedrive connector against the emulator: v2 cursor paging by `updated_since`
with deletions, v1 leads' full listing that says `listed_all` only from its first
page, what each upstream failure becomes (expired, revoked, burst and daily rate
limits, transient), the account picker, and explain's plan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect.connectors.base import (
    ConnectorContext,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamRateLimited,
    UpstreamTransient,
)
from metrics_connect.connectors.kit.errors import QuotaExhausted
from metrics_connect.networks.pipedrive import accounts
from metrics_connect.networks.pipedrive.connector.hooks import PipedriveConnector
from metrics_connect.networks.pipedrive.emulator.network import build_oauth, build_sandbox
from metrics_connect.networks.registry import oauth_provider
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.oauth_server import sandbox_client
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.upstream import Hosts, connector_context, frozen_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
API = "http://pipedrive.test/"
OAUTH = "http://oauth.pipedrive.test"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxNetwork]:
    with frozen_sandbox(build_sandbox(), NOW) as built:
        yield built


def connector(
    sandbox: SandboxNetwork,
    token: str = DEMO_ACCESS_TOKEN,
    refresh: str | None = None,
    oauth: Any = None,
) -> PipedriveConnector:
    """On the Pipedrive emulator; tokens refreshed at the OAuth emulator, on its own host."""
    client_id, secret = sandbox_client("pipedrive_login")
    credentials = {"access_token": token, **({"refresh_token": refresh} if refresh else {})}
    ctx = connector_context(
        sandbox,
        API,
        "pd-test",
        credentials,
        transport=Hosts(sandbox.app, oauth.app if oauth is not None else sandbox.app, OAUTH),
        pipedrive_login_token_url=f"{OAUTH}/oauth/token",
        pipedrive_login_client_id=client_id,
        pipedrive_login_client_secret=secret,
    )
    return PipedriveConnector(ctx)


async def sync(pd: PipedriveConnector, dataset: str, cursor: str | None) -> tuple[Any, ...]:
    seen: list[str] = []
    gone: list[str] = []
    pages = 0
    while True:
        page = await pd.fetch_records(dataset, cursor)
        seen += [r.id for r in page.records]
        gone += page.deleted_ids
        cursor, pages = page.cursor, pages + 1
        if not page.more:
            return seen, gone, cursor, pages, page


async def test_deals_page_by_cursor_then_resume_from_the_last_update_time(
    sandbox: SandboxNetwork,
) -> None:
    data: Any = sandbox.data
    seen, gone, cursor, pages, _ = await sync(connector(sandbox), "deals", None)
    live = {r.id for r, _ in data.live("deals", NOW)}
    recently_deleted = {
        r.id for r, _ in data.archived("deals", NOW) if r.archived_at >= NOW - timedelta(days=30)
    }
    assert set(seen) == live and len(seen) == len(live)
    assert set(gone) == recently_deleted and gone
    assert pages == -(-(len(live) + len(recently_deleted)) // 500)
    since = json.loads(cursor)["since"]
    latest = max(r.modified(NOW) for r in data.records["deals"] if r.created <= NOW)
    assert since == latest.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Nothing changed since: the next sync reads one page, at most the last instant again.
    again, _, _, pages, _ = await sync(connector(sandbox), "deals", cursor)
    assert pages == 1 and len(again) <= 2


async def test_activities_carry_their_deletions(sandbox: SandboxNetwork) -> None:
    data: Any = sandbox.data
    seen, gone, *_ = await sync(connector(sandbox), "activities", None)
    assert len(seen) == len(data.live("activities", NOW))
    assert gone and not set(gone) & set(seen)


async def test_leads_are_a_full_listing_that_says_listed_all(sandbox: SandboxNetwork) -> None:
    data: Any = sandbox.data
    seen, _, cursor, pages, last = await sync(connector(sandbox), "leads", None)
    assert seen == [r.id for r, _ in data.live("leads", NOW)]
    assert last.listed_all and cursor == '{"start": 0}' and pages > 1
    resumed = await connector(sandbox).fetch_records("leads", json.dumps({"start": 500}))
    assert not resumed.listed_all


async def test_failures_become_the_contracts_errors(sandbox: SandboxNetwork) -> None:
    controls = sandbox.controls
    with pytest.raises(IntegrationExpired, match="unauthorized"):
        await connector(sandbox, "not-a-pipedrive-token").fetch_records("leads", None)
    controls.switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    try:
        with pytest.raises(IntegrationRevoked, match="revoked"):
            await connector(sandbox).fetch_records("leads", None)
    finally:
        controls.switches.revoked_tokens.clear()
    controls.switches.rate_limit_next, controls.switches.retry_after_seconds = 50, 7
    with pytest.raises(UpstreamRateLimited) as limited:
        await connector(sandbox).fetch_records("leads", None)
    controls.switches.rate_limit_next = 0
    assert limited.value.retry_after == 7 and not isinstance(limited.value, QuotaExhausted)
    controls.switches.retry_after_seconds = 1
    api: Any = sandbox.app.state.api  # type: ignore[attr-defined]
    api.daily_budget = 25
    try:
        with pytest.raises(QuotaExhausted, match="Daily"):
            await connector(sandbox).fetch_records("deals", None)
    finally:
        api.daily_budget = None
    controls.switches.server_error_ratio = 1.0
    try:
        with pytest.raises(UpstreamTransient):
            await connector(sandbox).fetch_records("leads", None)
    finally:
        controls.switches.server_error_ratio = 0.0


async def test_an_expired_token_is_refreshed_with_basic_client_auth(
    sandbox: SandboxNetwork,
) -> None:
    provider = oauth_provider("pipedrive_login")
    assert provider is not None and provider.spec.token_auth == "client_secret_basic"
    oauth = build_oauth(provider.spec)
    client_id, _ = sandbox_client("pipedrive_login")
    granted = oauth._tokens(client_id, ("deals:read",))  # a code's grant
    assert granted["expires_in"] == 3600  # Pipedrive's access tokens: an hour
    expired = "sandbox-expired-access"
    sandbox.controls.switches.expired_tokens.add(expired)
    pd = connector(sandbox, expired, granted["refresh_token"], oauth)
    page = await pd.fetch_records("leads", None)
    assert page.records and pd.ctx.credentials["access_token"] != expired


async def test_the_account_picker_reads_users_me(sandbox: SandboxNetwork) -> None:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport) as http:
        [found] = await accounts.list_accounts(http, API, "", DEMO_ACCESS_TOKEN)
    assert found.external_id == sandbox.demo_account.external_id
    assert found.timezone == "America/New_York" and "lumenstudio.pipedrive.com" in found.detail
    assert found.extra == {"api_domain": "https://lumenstudio.pipedrive.com"}


@pytest.mark.parametrize(
    ("base", "api_domain", "host"),
    [
        ("https://api.pipedrive.com", "https://lumenstudio.pipedrive.com", "lumenstudio"),
        ("https://api.pipedrive.com", "https://evil.example", "api"),
        ("https://api.pipedrive.com", "https://x.pipedrive.com.evil.example", "api"),
        (API, "https://lumenstudio.pipedrive.com", "sandbox"),  # a configured host wins
    ],
)
def test_calls_go_to_the_company_domain_only_when_it_is_one(
    sandbox: SandboxNetwork, base: str, api_domain: str, host: str
) -> None:
    pd = connector(sandbox)
    ctx = ConnectorContext(
        integration_uuid="pd-test",
        external_id="1",
        credentials={"access_token": DEMO_ACCESS_TOKEN, "api_domain": api_domain},
        timezone="UTC",
        http=pd.ctx.http,
        base_url=base,
        settings=pd.ctx.settings,
    )
    url = PipedriveConnector(ctx).client.url("api/v2/deals")
    expected = {
        "lumenstudio": "https://lumenstudio.pipedrive.com/api/v2/deals",
        "api": "https://api.pipedrive.com/api/v2/deals",
        "sandbox": f"{API}api/v2/deals",
    }[host]
    assert url == expected


def test_explain_plans_the_lookups_and_the_listing(sandbox: SandboxNetwork) -> None:
    calls = connector(sandbox).plan_record_calls("deals", '{"since": "2026-11-01T00:00:00Z"}')
    assert [c.path for c in calls] == [
        "api/v1/users",
        "api/v2/pipelines",
        "api/v2/stages",
        "api/v2/deals",
    ]
    assert calls[-1].params["updated_since"] == "2026-11-01T00:00:00Z"
    assert calls[-1].params["status"] == "open,won,lost,deleted"
