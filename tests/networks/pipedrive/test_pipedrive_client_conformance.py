"""Conformance: pipedrive-python-lib (Pipedrive publishes no Python client; this is the
maintained wrapper of its REST API, on requests) drives the emulator over HTTP: leads
paged by `start`/`limit` to the end equal the raw live leads, `users/me` names the
company, v2 deals through the client's own request path page by `cursor`, and errors
reach the client as the exceptions it maps Pipedrive's statuses to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pipedrive.client import Client  # type: ignore[import-untyped]
from pipedrive.exceptions import (  # type: ignore[import-untyped]
    BadRequestError,
    TooManyRequestsError,
    UnauthorizedError,
)

from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork, build_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SandboxNetwork, str]]:
    sandbox = build_sandbox("pipedrive")
    sandbox.controls.clock.set(NOW)
    server = serve_in_background(sandbox.app, lifespan="off")
    try:
        yield sandbox, server.base_url
    finally:
        server.stop()


def client(base_url: str, token: str = DEMO_ACCESS_TOKEN) -> Any:
    # The client appends "v1/" to the company domain: the emulator's /api/v1.
    pipedrive = Client(domain=f"{base_url.rstrip('/')}/api/")
    pipedrive.set_access_token(token)
    return pipedrive


def test_leads_page_to_the_end_and_match_the_raw_leads(
    served: tuple[SandboxNetwork, str],
) -> None:
    sandbox, base_url = served
    pipedrive = client(base_url)
    seen: list[str] = []
    start: int | None = 0
    while start is not None:
        body = pipedrive.leads.get_all_leads(
            params={"start": start, "limit": 500, "archived_status": "all"}
        )
        assert body["success"] is True
        seen += [lead["id"] for lead in body["data"]]
        start = body["additional_data"]["pagination"].get("next_start")
    data: Any = sandbox.data
    assert seen == [r.id for r, _ in data.live("leads", NOW)]


def test_users_me_names_the_company(served: tuple[SandboxNetwork, str]) -> None:
    sandbox, base_url = served
    me = client(base_url).users.get_me()["data"]
    assert str(me["company_id"]) == sandbox.demo_account.external_id
    assert me["timezone_name"] == "America/New_York" and me["default_currency"] == "USD"
    users = client(base_url).users.get_all_users()["data"]
    assert len(users) == 4


def test_v2_deals_page_by_cursor_through_the_clients_requests(
    served: tuple[SandboxNetwork, str],
) -> None:
    sandbox, base_url = served
    pipedrive = client(base_url)
    url = f"{base_url.rstrip('/')}/api/v2/deals"
    params: dict[str, Any] = {"updated_since": "2026-09-01T00:00:00Z", "limit": 50}
    seen: list[int] = []
    while True:
        body = pipedrive._get(url, params=params)
        seen += [deal["id"] for deal in body["data"]]
        following = body["additional_data"]["next_cursor"]
        if not following:
            break
        params["cursor"] = following
    since = datetime(2026, 9, 1, tzinfo=UTC)
    data: Any = sandbox.data
    changed = [r for r, _ in data.live("deals", NOW) if r.modified(NOW) >= since]
    assert sorted(seen) == sorted(int(r.id) for r in changed) and len(seen) > 100


def test_errors_reach_the_client_as_pipedrive_writes_them(
    served: tuple[SandboxNetwork, str],
) -> None:
    sandbox, base_url = served
    with pytest.raises(UnauthorizedError, match="unauthorized access"):
        client(base_url, "not-a-pipedrive-token").leads.get_all_leads()
    with pytest.raises(BadRequestError, match="limit must be between"):
        client(base_url).leads.get_all_leads(params={"limit": 1000})
    sandbox.controls.switches.rate_limit_next = 1
    with pytest.raises(TooManyRequestsError) as limited:
        client(base_url).users.get_me()
    assert limited.value.response.headers["x-ratelimit-remaining"] == "0"
