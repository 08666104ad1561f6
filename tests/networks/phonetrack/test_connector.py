"""The PhoneTrack connector against the emulator: the first sync walks 365 days in 31-day
windows page by page (explain announces each window's first page), later syncs walk
again from 7 days before the last one, deleted calls come back as deleted ids, the
caller's number is never kept, what each upstream failure becomes, and the connect
form's live check of the API token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from metrics_connect.connect.forms import form_of
from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.connectors.base import (
    IntegrationExpired,
    IntegrationRevoked,
    RecordPage,
    UpstreamError,
    UpstreamRateLimited,
)
from metrics_connect.networks.phonetrack import accounts
from metrics_connect.networks.phonetrack.connector.hooks import PhoneTrackConnector
from metrics_connect.networks.phonetrack.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.upstream import connector_context, frozen_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
API = "http://phonetrack.test"
LOGS = "GET /api/v3/accounts/{id}/call-logs"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxNetwork]:
    with frozen_sandbox(build_sandbox(), NOW) as built:
        yield built


def connector(
    sandbox: SandboxNetwork, token: str = DEMO_ACCESS_TOKEN, account: str | None = None
) -> PhoneTrackConnector:
    credentials = {"access_token": token}
    ctx = connector_context(sandbox, API, "pt-test", credentials, external_id=account)
    return PhoneTrackConnector(ctx, now=lambda: NOW)


async def walk(pt: PhoneTrackConnector, cursor: str | None) -> tuple[list[RecordPage], str]:
    pages: list[RecordPage] = []
    while True:
        page = await pt.fetch_records("calls", cursor)
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            assert cursor is not None
            return pages, cursor


async def test_a_first_sync_walks_the_year_and_explain_announces_it(
    sandbox: SandboxNetwork,
) -> None:
    pt = connector(sandbox)
    planned = pt.plan_record_calls("calls", None)
    starts = [c.params["date_start"] for c in planned]
    assert starts[0] == f"{TODAY - timedelta(days=364)} 00:00:00"
    assert planned[-1].params["date_end"] == f"{TODAY} 23:59:59" and len(planned) == 12
    sandbox.controls.calls.reset()
    pages, cursor = await walk(pt, None)
    assert json.loads(cursor) == {"synced": TODAY.isoformat(), "full": TODAY.isoformat()}
    asked = sandbox.controls.calls.by_endpoint[LOGS]
    assert asked == len(pages) > len(planned)  # windows of more than 200 calls page on
    ids = [r.id for p in pages for r in p.records]
    data = sandbox.data
    first = datetime(2025, 11, 21, tzinfo=data.zone)
    held = [
        r.id for r, _ in data.history(NOW) if first <= data.starts[r.id] and not r.archived(NOW)
    ]
    assert sorted(ids) == sorted(held) and len(ids) == len(set(ids))
    deleted = [i for p in pages for i in p.deleted_ids]
    assert deleted and not set(deleted) & set(ids)
    fields = pages[-1].records[-1].fields
    assert fields["started_at"].endswith("-03:00") and len(fields["caller"]) == 32
    assert "origin_number" not in fields and all(
        not str(v).startswith("55") for v in fields.values() if isinstance(v, str)
    )


async def test_a_later_sync_walks_again_from_seven_days_before(sandbox: SandboxNetwork) -> None:
    pt = connector(sandbox)
    full = (TODAY - timedelta(days=29)).isoformat()
    synced = json.dumps({"synced": (TODAY - timedelta(days=1)).isoformat(), "full": full})
    [call] = pt.plan_record_calls("calls", synced)
    assert call.params["date_start"] == f"{TODAY - timedelta(days=8)} 00:00:00"
    assert call.params["date_end"] == f"{TODAY} 23:59:59"
    pages, cursor = await walk(pt, synced)
    assert len(pages) == 1
    assert json.loads(cursor) == {"synced": TODAY.isoformat(), "full": full}
    # Thirty days after the last whole walk, the sync lists the whole log again.
    stale = json.dumps({"synced": (TODAY - timedelta(days=1)).isoformat(), "full": "2026-10-21"})
    again = pt.plan_record_calls("calls", stale)
    assert again[0].params["date_start"] == f"{TODAY - timedelta(days=364)} 00:00:00"
    assert len(again) == 12


async def test_failures_become_the_contracts_errors(sandbox: SandboxNetwork) -> None:
    with pytest.raises(IntegrationExpired, match="Unauthenticated"):
        await connector(sandbox, "not-a-phonetrack-token").fetch_records("calls", None)
    sandbox.controls.switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    try:
        with pytest.raises(IntegrationRevoked, match="unauthorized"):
            await connector(sandbox).fetch_records("calls", None)
    finally:
        sandbox.controls.switches.revoked_tokens.clear()
    with pytest.raises(IntegrationRevoked):
        await connector(sandbox, account="999").fetch_records("calls", None)
    sandbox.controls.switches.rate_limit_next = 50
    sandbox.controls.switches.retry_after_seconds = 60
    try:
        with pytest.raises(UpstreamRateLimited) as limited:
            await connector(sandbox).fetch_records("calls", None)
    finally:
        sandbox.controls.switches.rate_limit_next = 0
        sandbox.controls.switches.retry_after_seconds = 1
    assert limited.value.retry_after == 60
    old = json.dumps({"next": "2025-01-01", "until": "2025-01-31", "page": 1})
    with pytest.raises(UpstreamError, match="last 365 days"):
        await connector(sandbox).fetch_records("calls", old)


async def test_the_emulator_refuses_bad_parameters_with_laravel_errors(
    sandbox: SandboxNetwork,
) -> None:
    transport = httpx.ASGITransport(app=sandbox.app)
    headers = {"Authorization": DEMO_ACCESS_TOKEN}
    async with httpx.AsyncClient(transport=transport, base_url=API, headers=headers) as http:
        path = "/api/v3/accounts/10929/call-logs"
        missing = await http.get(path)
        assert missing.status_code == 422 and "date_start" in missing.json()["errors"]
        wide = await http.get(
            path, params={"date_start": "2026-09-01 00:00:00", "date_end": "2026-10-15 00:00:00"}
        )
        assert wide.status_code == 422 and "31 days" in wide.json()["message"]
        one = {"date_start": "2026-11-02 00:00:00", "date_end": "2026-11-02 23:59:59"}
        body = (await http.get(path, params={**one, "limit": "5", "page": "2"})).json()
        assert len(body["rows"]) == 5 and body["page"] == 2 and body["total"] > 10
        assert body["rows"][0]["date_start_tz"]["date"].startswith("2026-11-02")
        bare = await http.get("/api/v3/accounts", headers={"Authorization": ""})
        assert bare.status_code == 401 and bare.json() == {"message": "Unauthenticated."}


async def test_the_connect_form_checks_the_token(sandbox: SandboxNetwork) -> None:
    found = form_of("phonetrack")
    assert found is not None
    [field] = found[1].fields
    assert (field.name, field.kind) == ("access_token", "secret")
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=API) as http:
        [account] = await accounts.check(http, {"access_token": f" {DEMO_ACCESS_TOKEN} "})
        assert account.external_id == sandbox.demo_account.external_id
        assert account.timezone == "America/Sao_Paulo"
        assert account.name == sandbox.demo_account.source_name
        with pytest.raises(ConnectFailed, match="refused this API token") as refused:
            await accounts.check(http, {"access_token": "wrong-token"})
        assert "wrong-token" not in str(refused.value)
    info = await connector(sandbox).account_info()
    assert info.name == sandbox.demo_account.source_name
