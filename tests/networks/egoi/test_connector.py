"""The E-goi connector against the emulator: every list's contacts walked page by page
and `listed_all` only from the start, campaign reports read once settled, what each
upstream failure becomes (refused key, no permission, 429 with its Retry-After), the
connect form's live check of the API key, and explain's planned calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.connectors.base import (
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
)
from metrics_connect.networks.egoi import accounts
from metrics_connect.networks.egoi.connector.hooks import EgoiConnector
from metrics_connect.networks.egoi.emulator.data import EgoiData
from metrics_connect.networks.egoi.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.upstream import connector_context, frozen_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
API = "http://egoi.test"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxNetwork]:
    with frozen_sandbox(build_sandbox(), NOW) as built:
        yield built


def connector(sandbox: SandboxNetwork, token: str = DEMO_ACCESS_TOKEN) -> EgoiConnector:
    return EgoiConnector(connector_context(sandbox, API, "egoi-test", {"access_token": token}))


async def test_contacts_walk_every_list_and_say_listed_all_from_the_start(
    sandbox: SandboxNetwork,
) -> None:
    egoi, data = connector(sandbox), sandbox.data
    sandbox.controls.calls.reset()
    cursor, seen = None, []
    while True:
        page = await egoi.fetch_records("contacts", cursor)
        seen += [r.id for r in page.records]
        cursor = page.cursor
        if not page.more:
            break
    assert isinstance(data, EgoiData)
    live = [(f["list_id"], r.id) for r, f in data.state("contacts", NOW)]
    assert sorted(seen) == sorted(f"{lst}:{ident}" for lst, ident in live)
    assert page.listed_all
    pages = sandbox.controls.calls.by_endpoint["GET /lists/{list_id}/contacts"]
    per_list = [sum(1 for lst, _ in live if lst == x["list_id"]) for x in data.lists]
    assert pages == sum(-(-n // 1000) for n in per_list)
    resumed = await connector(sandbox).fetch_records("contacts", json.dumps({"index": 1}))
    assert not resumed.listed_all  # resumed mid-way: it did not see the first list


async def test_settled_campaign_reports_are_read_once(sandbox: SandboxNetwork) -> None:
    egoi, data = connector(sandbox), sandbox.data
    cursor, rows = None, 0
    while True:
        page = await egoi.fetch_records("campaigns", cursor)
        rows += len(page.records)
        cursor = page.cursor
        if not page.more:
            break
    assert rows == len(data.sent_by(NOW))
    sandbox.controls.calls.reset()
    again = await egoi.fetch_records("campaigns", cursor)
    while again.more:
        again = await egoi.fetch_records("campaigns", again.cursor)
    young = [c for c in data.sent_by(NOW) if (NOW - c.sent).days < 30]
    reports = sum(v for k, v in sandbox.controls.calls.by_endpoint.items() if "reports" in k)
    assert reports == len(young) > 0


async def test_failures_become_the_contracts_errors(sandbox: SandboxNetwork) -> None:
    with pytest.raises(IntegrationExpired, match="Apikey is invalid"):
        await connector(sandbox, "not-an-egoi-key").fetch_records("automations", None)
    sandbox.controls.switches.revoked_tokens.add("sandbox-no-permission")
    with pytest.raises(IntegrationRevoked, match="no permission"):
        await connector(sandbox, "sandbox-no-permission").fetch_records("automations", None)
    sandbox.controls.switches.retry_after_seconds = 7
    sandbox.controls.switches.rate_limit_next = 50
    with pytest.raises(UpstreamRateLimited) as limited:
        await connector(sandbox).fetch_records("automations", None)
    sandbox.controls.switches.rate_limit_next = 0
    assert limited.value.retry_after == 7
    with pytest.raises(UpstreamError, match="limit must be between 1 and 100"):
        await connector(sandbox).client.get("campaigns", {"limit": "500"})


async def test_the_connect_form_checks_the_key(sandbox: SandboxNetwork) -> None:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=API) as http:
        [found] = await accounts.check(http, {"access_token": DEMO_ACCESS_TOKEN})
        assert (found.external_id, found.name) == ("1041152", "Pastelaria Aurora")
        assert found.timezone == "Europe/Lisbon"
        with pytest.raises(ConnectFailed, match="refused this API key") as refused:
            await accounts.check(http, {"access_token": "wrong-key"})
        assert "wrong-key" not in str(refused.value)


def test_explain_plans_the_lists_and_each_listing(sandbox: SandboxNetwork) -> None:
    egoi = connector(sandbox)
    plans = {d: [c.path for c in egoi.plan_record_calls(d, None)] for d in
             ("contacts", "campaigns", "automations")}  # fmt: skip
    assert plans == {
        "contacts": ["lists", "lists/{list_id}/contacts"],
        "campaigns": [
            "lists",
            "campaigns",
            "reports/email/{campaign_hash}",
            "reports/sms/{campaign_hash}",
            "reports/web-push/{campaign_hash}",
        ],
        "automations": ["lists", "automations"],
    }
