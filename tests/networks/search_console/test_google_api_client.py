"""Conformance: Google's own Python client (google-api-python-client, its bundled
`searchconsole v1` discovery document) drives the emulator served on loopback, as it
would drive searchconsole.googleapis.com: paths, percent-encoded site URLs, the
discovery document's enum spellings, paging, and the error envelope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import Resource, build
from googleapiclient.errors import HttpError

from metrics_connect.networks.search_console.emulator.data import day_cells
from metrics_connect.networks.search_console.emulator.network import DEMO_SITE, build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, GOOGLE_SITES
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
START, END = date(2026, 10, 1), date(2026, 10, 31)


@pytest.fixture(scope="module")
def network() -> Iterator[SandboxNetwork]:
    built = build_sandbox()
    built.controls.clock.set(NOW)
    yield built


@pytest.fixture(scope="module")
def base_url(network: SandboxNetwork) -> Iterator[str]:
    running = serve_in_background(network.app)
    yield running.base_url
    running.stop()


def service(base_url: str, token: str = DEMO_ACCESS_TOKEN) -> Resource:
    return build(
        "searchconsole",
        "v1",
        static_discovery=True,
        credentials=Credentials(token),
        client_options={"api_endpoint": base_url},
    )


def query(base_url: str, body: dict[str, Any], site: str = DEMO_SITE) -> dict[str, Any]:
    request = service(base_url).searchanalytics().query(siteUrl=site, body=body)
    answer: dict[str, Any] = request.execute(num_retries=0)
    return answer


def test_sites_list_is_the_sandbox_users_properties(base_url: str) -> None:
    answer = service(base_url).sites().list().execute()
    assert [(s["siteUrl"], s["permissionLevel"]) for s in answer["siteEntry"]] == list(GOOGLE_SITES)
    one = service(base_url).sites().get(siteUrl="https://www.acmecoffee.example/").execute()
    assert one == {"siteUrl": "https://www.acmecoffee.example/", "permissionLevel": "siteFullUser"}


def test_start_row_paging_reaches_every_row_once(base_url: str) -> None:
    body = {
        "startDate": START.isoformat(),
        "endDate": END.isoformat(),
        "dimensions": ["QUERY", "DEVICE"],
        "type": "WEB",
        "dataState": "FINAL",
    }
    whole = query(base_url, {**body, "rowLimit": 25_000})["rows"]
    paged: list[dict[str, Any]] = []
    while True:
        page = query(base_url, {**body, "rowLimit": 7, "startRow": len(paged)}).get("rows", [])
        paged += page
        if len(page) < 7:
            break
    assert paged == whole
    assert len({tuple(r["keys"]) for r in whole}) == len(whole) > 30
    clicks = [r["clicks"] for r in whole]
    assert clicks == sorted(clicks, reverse=True)


def test_position_and_ctr_are_weighted_over_the_raw_cells(base_url: str) -> None:
    answer = query(base_url, {"startDate": START.isoformat(), "endDate": END.isoformat()})
    assert answer["responseAggregationType"] == "byProperty"
    (row,) = answer["rows"]
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    cells = [c for d in days for c in day_cells("acme", "web", d)]
    impressions = sum(c.impressions for c in cells)
    assert row["impressions"] == impressions
    assert row["ctr"] == pytest.approx(sum(c.clicks for c in cells) / impressions)
    assert row["position"] == pytest.approx(sum(c.position_sum for c in cells) / impressions)


def test_by_date_rows_are_in_date_order_and_final_data_ends_three_days_back(
    base_url: str,
) -> None:
    today = date(2026, 11, 20)
    body = {"startDate": "2026-11-10", "endDate": today.isoformat(), "dimensions": ["date"]}
    final = query(base_url, body)
    assert [r["keys"][0] for r in final["rows"]][-1] == "2026-11-17"
    fresh = query(base_url, {**body, "dataState": "all"})
    assert [r["keys"][0] for r in fresh["rows"]][-1] == today.isoformat()
    assert fresh["metadata"] == {"firstIncompleteDate": "2026-11-18"}


def test_filters_with_the_discovery_documents_enums(base_url: str) -> None:
    body = {
        "startDate": START.isoformat(),
        "endDate": END.isoformat(),
        "dimensions": ["PAGE"],
        "dimensionFilterGroups": [
            {"filters": [{"dimension": "QUERY", "operator": "CONTAINS", "expression": "Espresso"}]}
        ],
    }
    answer = query(base_url, body)
    assert answer["responseAggregationType"] == "byPage"
    assert {r["keys"][0] for r in answer["rows"]} == {
        "https://www.acmecoffee.example/shop/beans/espresso-blend",
        "https://www.acmecoffee.example/blog/espresso-at-home",
    }


def test_errors_in_googles_envelope(base_url: str, network: SandboxNetwork) -> None:
    body = {"startDate": START.isoformat(), "endDate": END.isoformat()}
    with pytest.raises(HttpError) as unverified:
        query(base_url, body, site="https://old.acmecoffee.example/")
    assert unverified.value.status_code == 403
    assert "sufficient permission" in unverified.value.reason

    with pytest.raises(HttpError) as too_many:
        query(base_url, {**body, "rowLimit": 25_001})
    assert too_many.value.status_code == 400

    with pytest.raises(HttpError) as searchers:
        query(base_url, {**body, "type": "DISCOVER", "dimensions": ["QUERY"]})
    assert searchers.value.status_code == 400

    # A 401 makes the client refresh the token, as it does with Google; this one cannot.
    network.controls.switches.expired_tokens.add("sandbox-expired")
    calls = network.controls.calls.by_endpoint["sites.list"]
    with pytest.raises(RefreshError):
        service(base_url, "sandbox-expired").sites().list().execute(num_retries=0)
    assert network.controls.calls.by_endpoint["sites.list"] == calls + 1

    network.controls.switches.rate_limit_next = 1
    network.controls.switches.retry_after_seconds = 7
    with pytest.raises(HttpError) as limited:
        query(base_url, body)
    assert limited.value.status_code == 429
    assert limited.value.resp["retry-after"] == "7"
    assert query(base_url, body)["rows"]
