"""The RD Station Marketing connector against the emulator: an expired token refreshed
through the rd_station_login provider's emulator, what each upstream failure becomes,
the e-mail campaigns listed for the request's own days, and the connect page's account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from metrics_connect.connectors.base import (
    FetchRequest,
    IntegrationRevoked,
    UpstreamRateLimited,
)
from metrics_connect.networks.rd_station.accounts import list_accounts
from metrics_connect.networks.rd_station.connector.hooks import RdStationConnector
from metrics_connect.networks.rd_station.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.oauth_server import sandbox_client
from metrics_connect.sandbox.oauth import build_provider_emulator
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.upstream import Hosts, connector_context, frozen_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
API = "http://rd.test"
OAUTH = "http://oauth.rd.test"


@pytest.fixture
def sandbox() -> Iterator[SandboxNetwork]:
    with frozen_sandbox(build_sandbox(), NOW) as built:
        yield built


def connector(
    sandbox: SandboxNetwork, credentials: dict[str, Any], oauth: Any
) -> RdStationConnector:
    client_id, secret = sandbox_client("rd_station_login")
    ctx = connector_context(
        sandbox,
        API,
        "rd-station-test",
        credentials,
        timezone="America/Sao_Paulo",
        transport=Hosts(sandbox.app, oauth.app, OAUTH),
        rd_station_login_token_url=f"{OAUTH}/auth/token",
        rd_station_login_client_id=client_id,
        rd_station_login_client_secret=secret,
    )
    return RdStationConnector(ctx)


def emails(start: date, end: date) -> FetchRequest:
    return FetchRequest(dataset="emails", start=start, end=end, breakdowns=())


async def test_an_expired_token_is_refreshed_through_the_provider(sandbox: SandboxNetwork) -> None:
    oauth = build_provider_emulator("rd_station_login")
    client_id, _ = sandbox_client("rd_station_login")
    refresh = oauth._tokens(client_id, ())["refresh_token"]  # type: ignore[attr-defined]
    expired = "sandbox-expired-access"
    sandbox.controls.switches.expired_tokens.add(expired)
    rd = connector(sandbox, {"access_token": expired, "refresh_token": refresh}, oauth)
    result = await rd.fetch_objects(emails(date(2026, 11, 1), date(2026, 11, 19)))
    assert result.objects and rd.ctx.credentials["access_token"] != expired
    # Only the campaigns sent on the request's days, on their send day.
    assert all(date(2026, 11, 1) <= o.day <= date(2026, 11, 19) for o in result.objects)
    data = sandbox.data
    sent = [
        c
        for d in data.days(date(2026, 11, 1), date(2026, 11, 19))
        for c in data.day(d)["campaigns"]
    ]
    assert {o.id for o in result.objects} == {str(c["campaign_id"]) for c in sent}


async def test_failures_become_the_contracts_errors(sandbox: SandboxNetwork) -> None:
    oauth = build_provider_emulator("rd_station_login")
    revoked = "sandbox-revoked-access"
    sandbox.controls.switches.revoked_tokens.add(revoked)
    with pytest.raises(IntegrationRevoked, match="no longer has access"):
        await connector(sandbox, {"access_token": revoked}, oauth).account_info()
    sandbox.controls.switches.rate_limit_next = 50
    with pytest.raises(UpstreamRateLimited) as limited:
        await connector(sandbox, {"access_token": DEMO_ACCESS_TOKEN}, oauth).account_info()
    sandbox.controls.switches.rate_limit_next = 0
    assert limited.value.retry_after == 30


async def test_the_picker_lists_the_tokens_account(sandbox: SandboxNetwork) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as http:
        [found] = await list_accounts(http, API, "", DEMO_ACCESS_TOKEN)
    assert (found.external_id, found.name, found.timezone) == (
        "3100042",
        "Café Aurora Marketing",
        "America/Sao_Paulo",
    )
