"""The Hotmart connector against the emulator: a first sync reads every status pass of
the two-year window page by page (the calls explain announced), a later sync re-reads
each status only its `revisit_days` back and sees a refund, an expired token replaced through the
customer's own client (client credentials, Basic auth), and what each failure becomes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.connectors.base import (
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
)
from metrics_connect.networks.hotmart.connector.hooks import HotmartConnector
from metrics_connect.networks.hotmart.emulator.data import SalesData
from metrics_connect.networks.hotmart.emulator.network import build_oauth, build_sandbox
from metrics_connect.networks.registry import oauth_provider
from metrics_connect.sandbox.kit.oauth_server import sandbox_client
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.upstream import Hosts, connector_context, frozen_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
API = "http://hotmart.test"
OAUTH = "http://api-sec-vlc.hotmart.test"
HISTORY = "GET /payments/api/v1/sales/history"


@pytest.fixture
def sandbox() -> Iterator[SandboxNetwork]:
    with frozen_sandbox(build_sandbox(), NOW) as built:
        yield built


def connector(
    sandbox: SandboxNetwork, credentials: dict[str, Any] | None = None, oauth: Any = None
) -> HotmartConnector:
    """On the Payments API emulator; tokens at the token endpoint's emulator, on its own host."""
    ctx = connector_context(
        sandbox,
        API,
        "hotmart-test",
        dict(credentials or sandbox.demo_account.credentials),
        transport=Hosts(sandbox.app, oauth.app if oauth is not None else sandbox.app, OAUTH),
        hotmart_login_token_url=f"{OAUTH}/security/oauth/token",
    )
    return HotmartConnector(ctx, now=lambda: NOW)


async def sync(hotmart: HotmartConnector, cursor: str | None) -> tuple[dict[str, Any], str, int]:
    seen: dict[str, Any] = {}
    pages = 0
    while True:
        page = await hotmart.fetch_records("sales", cursor)
        seen |= {r.id: r.fields for r in page.records}
        cursor, pages = page.cursor, pages + 1
        if not page.more:
            return seen, cursor, pages


async def test_a_first_sync_reads_every_status_and_a_later_one_sees_a_refund(
    sandbox: SandboxNetwork,
) -> None:
    data: SalesData = sandbox.data
    hotmart = connector(sandbox)
    planned = hotmart.plan_record_calls("sales", None)
    statuses = HotmartConnector.streams.extra["statuses"]
    assert [c.params.get("transaction_status", "") for c in planned] == statuses
    seen, cursor, pages = await sync(hotmart, None)
    expected = data.window(NOW - timedelta(days=730), NOW, NOW)
    assert set(seen) == {p["transaction"] for p in expected} and len(seen) > 4000
    assert sandbox.controls.calls.by_endpoint[HISTORY] == pages > len(statuses)
    assert json.loads(cursor) == {"done_to": int(NOW.timestamp() * 1000)}
    # A purchase approved before NOW and refunded later: the next sync upserts it.
    refunded = next(
        r
        for r in data.records["purchases"]
        if (s := r.state(NOW)) is not None
        and s["status"] == "APPROVED"
        and any(d.get("status") == "REFUNDED" and w > NOW for w, d in r.changes)
    )
    later = next(w for w, d in refunded.changes if d.get("status") == "REFUNDED") + timedelta(
        minutes=1
    )
    assert seen[refunded.id]["status"] == "APPROVED"
    sandbox.controls.clock.set(later)
    sandbox.controls.calls.reset()
    again = connector(sandbox)
    again.clock = lambda: later
    planned = again.plan_record_calls("sales", cursor)
    revisit = HotmartConnector.streams.extra["revisit_days"]

    def since(status: str) -> datetime:
        return NOW - timedelta(days=revisit.get(status, revisit["other"]))

    starts = [c.params["start_date"] for c in planned]
    assert starts == [str(int(since(s).timestamp() * 1000)) for s in statuses]
    assert since("") > since("REFUNDED")  # the default listing changes only for weeks
    changed, _, pages = await sync(again, cursor)
    assert changed[refunded.id]["status"] == "REFUNDED"
    default = {"APPROVED", "COMPLETE"}
    listed = {
        s: [
            p["transaction"]
            for p in data.window(since(s), later, later)
            if p["status"] in ({s} if s else default)
        ]
        for s in statuses
    }
    assert set(changed) == {t for found in listed.values() for t in found}
    assert pages == sum(max(1, -(-len(t) // 500)) for t in listed.values()) >= len(statuses)
    assert sandbox.controls.calls.by_endpoint[HISTORY] == pages


async def test_an_expired_token_is_replaced_with_the_customers_client(
    sandbox: SandboxNetwork,
) -> None:
    provider = oauth_provider("hotmart_login")
    assert provider is not None
    oauth = build_oauth(provider.spec)
    client_id, secret = sandbox_client("hotmart_login")
    expired = "sandbox-expired-access"
    sandbox.controls.switches.expired_tokens.add(expired)
    own = {"access_token": expired, "client_id": client_id, "client_secret": secret}
    hotmart = connector(sandbox, own, oauth)
    page = await hotmart.fetch_records("sales", None)
    assert page.records
    token = hotmart.ctx.credentials["access_token"]
    assert token != expired and oauth.server.token_problem(token) is None
    wrong = {**own, "client_secret": "not-it"}
    with pytest.raises(IntegrationExpired):
        await connector(sandbox, wrong, oauth).fetch_records("sales", None)


async def test_failures_become_the_contracts_errors(sandbox: SandboxNetwork) -> None:
    revoked = "sandbox-revoked-access"
    sandbox.controls.switches.revoked_tokens.add(revoked)
    with pytest.raises(IntegrationRevoked, match="not allowed"):
        await connector(sandbox, {"access_token": revoked}).fetch_records("sales", None)
    with pytest.raises(IntegrationExpired):
        await connector(sandbox, {"access_token": "not-a-hotmart-token"}).fetch_records(
            "sales", None
        )
    sandbox.controls.switches.rate_limit_next = 50
    with pytest.raises(UpstreamRateLimited) as limited:
        await connector(sandbox).fetch_records("sales", None)
    # RateLimit-Reset (42 s) is past the retry budget: given up at once, retry-after kept.
    assert limited.value.retry_after == 42
    assert sandbox.controls.switches.rate_limit_next == 49
    sandbox.controls.switches.rate_limit_next = 0
    to = int(NOW.timestamp() * 1000)
    bad = json.dumps({"since": to, "to": to, "status": 0, "page_token": "not-a-token"})
    with pytest.raises(UpstreamError, match="page_token") as refused:
        await connector(sandbox).fetch_records("sales", bad)
    assert not isinstance(refused.value, UpstreamRateLimited | IntegrationExpired)
