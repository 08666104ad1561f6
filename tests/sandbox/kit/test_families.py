"""The families' error envelopes, token rule and paging, and a network emulator made of
nothing but the kit: routes, a seeded data spec, and the JSON REST gate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metrics_connect.sandbox.kit import google, meta_graph
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.json_rest import RestError, RestGate
from metrics_connect.sandbox.kit.paging import (
    BadPageRequest,
    decode_offset,
    graph_offset_page,
    page_number_page,
    page_token_page,
    parse_limit,
)
from metrics_connect.sandbox.kit.seeded import DailySeries, Lifetime

TOKEN = "sandbox-token"


def test_token_rule() -> None:
    controls = SandboxControls()
    controls.switches.expired_tokens.add("sandbox-old")
    controls.switches.revoked_tokens.add("sandbox-gone")
    assert controls.token_fault(None) is TokenFault.MISSING
    assert controls.token_fault("EAAB...") is TokenFault.FOREIGN
    assert controls.token_fault("sandbox-old") is TokenFault.EXPIRED
    assert controls.token_fault("sandbox-gone") is TokenFault.REVOKED
    assert controls.token_fault(TOKEN) is None


def test_graph_error_envelope() -> None:
    error = meta_graph.rate_limited(17)
    assert error.status == 403
    assert error.body("T") == {
        "error": {
            "message": "(#17) User request limit reached",
            "type": "OAuthException",
            "is_transient": True,
            "code": 17,
            "fbtrace_id": "T",
        }
    }
    plain = meta_graph.unknown_object("9")
    assert "is_transient" not in plain.body("T")["error"]
    assert plain.body("T", always_transient_flag=True)["error"]["is_transient"] is False
    assert plain.body("T")["error"]["error_subcode"] == 33
    assert meta_graph.fbtrace_id(1, 2) == meta_graph.fbtrace_id(1, 2) != meta_graph.fbtrace_id(1, 3)


def test_graph_wire_texts_read_as_meta_writes_them() -> None:
    """meta_graph.yaml's texts put together: Meta's message word for word, one line."""
    assert meta_graph.unsupported_method("POST", "9").message == (
        "Unsupported post request. Object with ID '9' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation. Please read the Graph "
        "API documentation at https://developers.facebook.com/docs/graph-api"
    )
    assert meta_graph.unknown_object("9").message.startswith("Unsupported get request.")
    assert meta_graph.docs_link("graph-api/") == "https://developers.facebook.com/docs/graph-api/"
    assert meta_graph.version_header("v24.0") == {"facebook-api-version": "v24.0"}


def test_google_envelope_and_token_rule() -> None:
    assert (
        google.token_error(TokenFault.MISSING, "no").body()["error"]["status"] == "UNAUTHENTICATED"
    )
    assert google.token_error(TokenFault.EXPIRED, "no").code == 401
    revoked = google.token_error(TokenFault.REVOKED, "no access")
    assert revoked.body() == {
        "error": {"code": 403, "message": "no access", "status": "PERMISSION_DENIED"}
    }


def test_graph_offset_pages_to_the_last_page() -> None:
    items = list(range(7))
    seen: list[int] = []
    params: dict[str, str] = {"fields": "id", "access_token": TOKEN}
    offset = 0
    while True:
        body = graph_offset_page(items, offset, 3, "http://graph.test/v21.0/act_1/ads", params)
        seen += body["data"]
        if "next" not in body["paging"]:
            break
        query = parse_qs(urlsplit(body["paging"]["next"]).query)
        assert "access_token" not in query and query["limit"] == ["3"]
        offset = decode_offset(query["after"][0])
    assert seen == items
    assert graph_offset_page(items, 7, 3, "http://x", {}) == {"data": []}
    with pytest.raises(BadPageRequest):
        decode_offset("%%%")


def test_page_tokens_and_limits() -> None:
    items = list(range(5))
    first = page_token_page(items, None, 2)
    second = page_token_page(items, first["nextPageToken"], 2)
    last = page_token_page(items, second["nextPageToken"], 2)
    assert first["items"] + second["items"] + last["items"] == items
    assert "nextPageToken" not in last
    with pytest.raises(BadPageRequest):
        page_token_page(items, "bm9wZQ", 2)
    assert parse_limit(None, 25, 100) == 25
    assert parse_limit("500", 25, 100) == 100
    with pytest.raises(BadPageRequest):
        parse_limit("0", 25, 100)


# --- a whole network from the kit: a shop API with orders per day -------------------------

START = date(2024, 1, 1)
PRODUCTS = {"p1": Lifetime(START), "p2": Lifetime(START, date(2024, 1, 20))}
ORDERS = {
    pid: DailySeries(START, 40, 0.5, (1, 1, 1, 1, 1.2, 1.5, 0.8), 0, 0.8, 1.2, ("shop", pid))
    for pid in PRODUCTS
}


def shop_app(controls: SandboxControls) -> Starlette:
    gate = RestGate(controls)

    async def daily_orders(request: Request) -> Response:
        try:
            await gate.admit(request, "orders")
            since = date.fromisoformat(request.query_params["since"])
            until = date.fromisoformat(request.query_params["until"])
            rows = [
                {"date": (since + timedelta(d)).isoformat(), "product": pid, "orders": n}
                for d in range((until - since).days + 1)
                for pid, lifetime in PRODUCTS.items()
                if lifetime.active_on(day := since + timedelta(d)) and (n := ORDERS[pid].value(day))
            ]
            page = int(request.query_params.get("page", "1"))
            body, headers = page_number_page(
                rows, page, 10, str(request.url).split("?")[0], dict(request.query_params)
            )
        except RestError as error:
            return error.response()
        return JSONResponse(body, headers=headers)

    return Starlette(routes=[Route("/v1/orders/daily", daily_orders)])


@pytest.fixture
def controls() -> SandboxControls:
    return SandboxControls()


@pytest.fixture
async def shop(controls: SandboxControls) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=shop_app(controls))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://shop.test", headers={"X-Api-Key": TOKEN}
    ) as client:
        yield client


async def test_toy_network_pages_to_the_last_page_by_link_header(
    shop: httpx.AsyncClient, controls: SandboxControls
) -> None:
    url: str | None = "/v1/orders/daily?since=2024-01-15&until=2024-01-31"
    rows: list[dict[str, Any]] = []
    while url:
        response = await shop.get(url)
        assert response.status_code == 200, response.text
        rows += response.json()["data"]
        url = response.links.get("next", {}).get("url")
    # p2 stops on the 20th: 17 days of p1, 6 of p2.
    assert len(rows) == 17 + 6 == response.json()["total"]
    assert {r["product"] for r in rows if r["date"] > "2024-01-20"} == {"p1"}
    assert rows[0]["orders"] == ORDERS["p1"].value(date(2024, 1, 15))
    assert controls.calls.by_endpoint["orders"] == 3


async def test_toy_network_faults(shop: httpx.AsyncClient, controls: SandboxControls) -> None:
    url = "/v1/orders/daily?since=2024-01-15&until=2024-01-16"
    controls.switches.rate_limit_next = 1
    controls.switches.retry_after_seconds = 7
    limited = await shop.get(url)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json() == {"error": {"code": "rate_limited", "message": "Too many requests."}}
    assert (await shop.get(url, headers={"X-Api-Key": ""})).status_code == 401
    controls.switches.revoked_tokens.add(TOKEN)
    assert (await shop.get(url)).json()["error"]["code"] == "forbidden"
    controls.switches.revoked_tokens.clear()
    controls.switches.server_error_ratio = 1.0
    assert (await shop.get(url)).status_code == 503
    assert controls.calls.by_endpoint["orders"] == 4


def test_graph_insights_helpers() -> None:
    from metrics_connect.sandbox.kit.graph_insights import (
        joint_results,
        newest_first_bounds,
        window_paging,
    )

    # Newest first: keys descend; "after" a key walks to older items.
    keys = [(50, "e"), (40, "d"), (30, "c"), (20, "b"), (10, "a")]
    assert newest_first_bounds(keys, None, None, 2) == (0, 2)
    assert newest_first_bounds(keys, (40, "d"), None, 2) == (2, 4)
    assert newest_first_bounds(keys, (35, "gone"), None, 2) == (2, 4)  # item since deleted
    assert newest_first_bounds(keys, None, (30, "c"), 2) == (0, 2)
    assert newest_first_bounds(keys, (10, "a"), None, 2) == (5, 5)
    results = joint_results(100, [{"F": 60, "M": 40}, {"BR": 90, "PT": 10}])
    assert sum(r["value"] for r in results) == 100
    assert {tuple(r["dimension_values"]) for r in results} == {
        ("F", "BR"),
        ("F", "PT"),
        ("M", "BR"),
        ("M", "PT"),
    }
    from datetime import UTC, datetime

    since, until = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 31, tzinfo=UTC)
    paging = window_paging("http://g/v21.0/1/insights", {"metric": "reach"}, since, until)
    assert paging["next"].endswith("since=1706659200&until=1709251200")
    assert paging["previous"].endswith("since=1701475200&until=1704067200")
