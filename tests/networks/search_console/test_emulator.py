"""The Search Console emulator follows the API's documented rules (docs/networks/
search_console.md): retention, freshness, dimensions that do not combine, types without
queries, anonymized queries, aggregation, filters, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from metrics_connect.networks.search_console.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 10:00 on 2026-11-20 in Los Angeles
QUERY = "/webmasters/v3/sites/sc-domain%3Aacmecoffee.example/searchAnalytics/query"
AUTH = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
OCTOBER = {"startDate": "2026-10-01", "endDate": "2026-10-31"}


@pytest.fixture
def network() -> SandboxNetwork:
    built = build_sandbox()
    built.controls.clock.set(NOW)
    return built


@pytest.fixture
async def client(network: SandboxNetwork) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=network.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sc.test") as c:
        yield c


async def ask(client: httpx.AsyncClient, body: dict[str, Any], status: int = 200) -> Any:
    response = await client.post(QUERY, json=body, headers=AUTH)
    assert response.status_code == status, response.text
    return response.json()


def total(rows: list[dict[str, Any]], field: str) -> float:
    return sum(r[field] for r in rows)


async def test_sixteen_months_are_kept(client: httpx.AsyncClient) -> None:
    body = {"startDate": "2024-01-01", "endDate": "2025-12-31", "dimensions": ["date"]}
    rows = (await ask(client, body))["rows"]
    assert rows[0]["keys"] == ["2025-07-20"]  # 16 months before 2026-11-20
    assert rows[-1]["keys"] == ["2025-12-31"]


async def test_today_is_partial_and_only_in_all(client: httpx.AsyncClient) -> None:
    body = {"startDate": "2026-11-13", "endDate": "2026-11-20", "dimensions": ["date"]}
    final = {r["keys"][0]: r for r in (await ask(client, body))["rows"]}
    fresh = {r["keys"][0]: r for r in (await ask(client, {**body, "dataState": "all"}))["rows"]}
    assert max(final) == "2026-11-17" and max(fresh) == "2026-11-20"
    assert fresh["2026-11-17"] == final["2026-11-17"]
    # 10:00 of a 24-hour day: about 10/24 of a normal day's impressions.
    share = fresh["2026-11-20"]["impressions"] / fresh["2026-11-13"]["impressions"]
    assert 0.25 < share < 0.6


async def test_anonymized_queries_are_in_totals_only(client: httpx.AsyncClient) -> None:
    (whole,) = (await ask(client, OCTOBER))["rows"]
    by_query = (await ask(client, {**OCTOBER, "dimensions": ["query"]}))["rows"]
    by_device = (await ask(client, {**OCTOBER, "dimensions": ["device"]}))["rows"]
    assert total(by_device, "impressions") == whole["impressions"]
    assert total(by_query, "impressions") < 0.9 * whole["impressions"]
    assert "keys" not in whole


async def test_search_appearance_is_grouped_alone(client: httpx.AsyncClient) -> None:
    rows = (await ask(client, {**OCTOBER, "dimensions": ["searchAppearance"]}))["rows"]
    assert {r["keys"][0] for r in rows} == {
        "MERCHANT_LISTINGS",
        "PRODUCT_SNIPPETS",
        "REVIEW_SNIPPET",
        "VIDEO",
    }
    body = {**OCTOBER, "dimensions": ["searchAppearance", "device"]}
    error = (await ask(client, body, 400))["error"]
    assert error["status"] == "INVALID_ARGUMENT"


async def test_discover_has_neither_queries_nor_positions(client: httpx.AsyncClient) -> None:
    rows = (await ask(client, {**OCTOBER, "type": "discover", "dimensions": ["page"]}))["rows"]
    assert rows and all("position" not in r for r in rows)
    await ask(client, {**OCTOBER, "type": "discover", "dimensions": ["query"]}, 400)


async def test_aggregation_by_property_refuses_pages(client: httpx.AsyncClient) -> None:
    body = {**OCTOBER, "dimensions": ["page"], "aggregationType": "byProperty"}
    await ask(client, body, 400)
    answer = await ask(client, {**OCTOBER, "dimensions": ["page"]})
    assert answer["responseAggregationType"] == "byPage"


async def test_regex_and_negative_filters(client: httpx.AsyncClient) -> None:
    def only(operator: str, expression: str) -> dict[str, Any]:
        flt = {"dimension": "query", "operator": operator, "expression": expression}
        return {**OCTOBER, "dimensions": ["query"], "dimensionFilterGroups": [{"filters": [flt]}]}

    brand = {r["keys"][0] for r in (await ask(client, only("includingRegex", "^acme")))["rows"]}
    assert brand == {"acme coffee", "acme coffee roasters", "acme cafe", "acme coffee contact"}
    rest = {r["keys"][0] for r in (await ask(client, only("excludingRegex", "^acme")))["rows"]}
    assert rest and not rest & brand
    await ask(client, only("includingRegex", "("), 400)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"endDate": "2026-10-31"}, "startDate"),
        ({**OCTOBER, "endDate": "2026-09-01"}, "end date"),
        ({**OCTOBER, "dimensions": ["hour"]}, "dimensions[0]"),
        ({**OCTOBER, "rowLimit": 0}, "rowLimit"),
        ({**OCTOBER, "startRow": -1}, "startRow"),
        ({**OCTOBER, "dataState": "partial"}, "data_state"),
    ],
)
async def test_bad_parameters_are_400(
    client: httpx.AsyncClient, body: dict[str, Any], fragment: str
) -> None:
    error = (await ask(client, body, 400))["error"]
    assert error["code"] == 400 and fragment in error["message"]


async def test_token_and_fault_errors(client: httpx.AsyncClient, network: SandboxNetwork) -> None:
    missing = await client.post(QUERY, json=OCTOBER)
    assert missing.status_code == 401 and missing.json()["error"]["status"] == "UNAUTHENTICATED"
    network.controls.switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    revoked = await client.post(QUERY, json=OCTOBER, headers=AUTH)
    assert revoked.status_code == 403
    network.controls.switches.revoked_tokens.clear()
    network.controls.switches.server_error_ratio = 1.0
    assert (await client.post(QUERY, json=OCTOBER, headers=AUTH)).status_code == 503
    network.controls.switches.server_error_ratio = 0.0
    unknown = await client.get("/webmasters/v3/nowhere", headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"]["status"] == "NOT_FOUND"
    assert network.controls.calls.by_endpoint["searchanalytics.query"] == 3


async def test_a_property_has_no_rows_before_its_first_day(
    client: httpx.AsyncClient, network: SandboxNetwork
) -> None:
    network.controls.clock.set(datetime(2024, 6, 1, 18, 0, tzinfo=UTC))
    site = "/webmasters/v3/sites/https%3A%2F%2Fblog.acmecoffee.example%2F/searchAnalytics/query"
    early = {"startDate": "2024-01-01", "endDate": "2024-02-29"}
    response = await client.post(site, json=early, headers=AUTH)
    assert response.json() == {"responseAggregationType": "byProperty"}
    body = {**early, "endDate": "2024-03-05", "dimensions": ["date"]}
    rows = (await client.post(site, json=body, headers=AUTH)).json()["rows"]
    assert rows[0]["keys"] == [date(2024, 3, 1).isoformat()]
