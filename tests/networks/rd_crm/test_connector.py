"""The RD Station CRM connector against the emulator: a full listing paged by `has_more`
that says `listed_all` only when walked from its first page, the 10,000-record cap, what
each upstream failure becomes, and the connect form's live check of the API token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.connectors.base import (
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
)
from metrics_connect.networks.rd_crm import accounts
from metrics_connect.networks.rd_crm.connector.hooks import RdCrmConnector
from metrics_connect.networks.rd_crm.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.upstream import connector_context, frozen_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
API = "http://rdcrm.test"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxNetwork]:
    with frozen_sandbox(build_sandbox(), NOW) as built:
        yield built


def connector(sandbox: SandboxNetwork, token: str = DEMO_ACCESS_TOKEN) -> RdCrmConnector:
    return RdCrmConnector(connector_context(sandbox, API, "rd-test", {"access_token": token}))


async def test_a_full_listing_pages_by_has_more_and_says_listed_all(
    sandbox: SandboxNetwork,
) -> None:
    rd = connector(sandbox)
    cursor, seen, pages = None, [], 0
    while True:
        page = await rd.fetch_records("deals", cursor)
        seen += [r.id for r in page.records]
        cursor, pages = page.cursor, pages + 1
        if not page.more:
            break
    live = [r.id for r, _ in sandbox.data.live("deals", NOW)]
    assert seen == live[:10_000] and pages == -(-min(len(live), 10_000) // 200)
    assert page.listed_all and page.cursor == '{"page": 1}'
    # A listing resumed mid-way by another sync cannot tell what it did not list.
    resumed = connector(sandbox)
    last = await resumed.fetch_records("deals", json_page(pages))
    assert not last.more and not last.listed_all
    lines = await rd.fetch_records("deal_products", None)
    assert all(":" in r.id and r.fields["total"] > 0 for r in lines.records)


def json_page(page: int) -> str:
    return f'{{"page": {page}}}'


async def test_failures_become_the_contracts_errors(sandbox: SandboxNetwork) -> None:
    with pytest.raises(IntegrationRevoked, match="Token inválido"):
        await connector(sandbox, "not-an-rd-token").fetch_records("tasks", None)
    sandbox.controls.switches.rate_limit_next = 50
    with pytest.raises(UpstreamRateLimited) as limited:
        await connector(sandbox).fetch_records("tasks", None)
    sandbox.controls.switches.rate_limit_next = 0
    assert limited.value.retry_after == 60
    with pytest.raises(UpstreamError, match="10000"):
        await connector(sandbox).fetch_records("deals", json_page(51))


async def test_the_connect_form_checks_the_token(sandbox: SandboxNetwork) -> None:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=API) as http:
        [found] = await accounts.check(http, {"access_token": DEMO_ACCESS_TOKEN})
        assert found.external_id == sandbox.demo_account.external_id
        assert found.timezone == "America/Sao_Paulo" and found.detail == "4 users"
        with pytest.raises(ConnectFailed, match="refused this API token"):
            await accounts.check(http, {"access_token": "wrong"})


def test_explain_plans_the_lookups_and_the_listing(sandbox: SandboxNetwork) -> None:
    calls: list[Any] = connector(sandbox).plan_record_calls("deals", None)
    assert [c.path for c in calls] == ["api/v1/teams", "api/v1/deal_pipelines", "api/v1/deals"]
    assert calls[-1].params == {"page": "1", "limit": "200"}
