"""The WordPress REST kit: WP_Error bodies, numbered pages with X-WP-Total(Pages) and a
next Link, enum lists, site-time dates, key pairs, refusals answered by the routes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from metrics_connect.sandbox.kit.wp_rest import (
    WpError,
    date_bounds,
    enum_list,
    key_pair,
    listing,
    one_of,
    site_dates,
    within,
    wp_routes,
)

ZONE = ZoneInfo("America/Sao_Paulo")


async def items(request: Request) -> Response:
    return listing(request, list(range(25)), lambda n: {"n": n})


async def keys(request: Request) -> Response:
    key, secret = key_pair(request)
    if key is None:
        raise WpError(429, "rest_too_many_requests", "Too many requests.", retry_after=3)
    return JSONResponse({"key": key, "secret": secret})


def client() -> httpx.AsyncClient:
    app = Starlette(routes=wp_routes([("/wp-json/x/items", items), ("/wp-json/x/keys", keys)]))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://site.test")


async def test_pages_count_and_link_the_next() -> None:
    async with client() as c:
        first = await c.get("/wp-json/x/items", params={"per_page": "10", "order": "asc"})
        last = await c.get("/wp-json/x/items", params={"per_page": "10", "page": "3"})
        beyond = await c.get("/wp-json/x/items", params={"page": "9"})
    assert [i["n"] for i in first.json()] == list(range(10))
    assert (first.headers["x-wp-total"], first.headers["x-wp-totalpages"]) == ("25", "3")
    assert first.headers["link"] == (
        '<http://site.test/wp-json/x/items?per_page=10&order=asc&page=2>; rel="next"'
    )
    assert [i["n"] for i in last.json()] == list(range(20, 25)) and "link" not in last.headers
    assert beyond.status_code == 200 and beyond.json() == []


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        (
            {"per_page": "101"},
            "per_page",
            "per_page must be between 1 (inclusive) and 100 (inclusive)",
        ),
        ({"per_page": "ten"}, "per_page", "per_page is not of type integer."),
        ({"page": "0"}, "page", "page must be greater than or equal to 1"),
    ],
)
async def test_a_bad_page_is_a_wp_error(params: dict[str, str], param: str, message: str) -> None:
    async with client() as c:
        answer = await c.get("/wp-json/x/items", params=params)
    assert answer.status_code == 400
    assert answer.json() == {
        "code": "rest_invalid_param",
        "message": f"Invalid parameter(s): {param}",
        "data": {"status": 400, "params": {param: message}},
    }


async def test_key_pairs_by_basic_or_query_and_a_retry_after() -> None:
    basic = "Basic " + base64.b64encode(b"ck_1:cs_1").decode()
    async with client() as c:
        by_basic = await c.get("/wp-json/x/keys", headers={"Authorization": basic})
        by_query = await c.get("/wp-json/x/keys", params={"consumer_key": "ck_2"})
        not_utf8 = "Basic " + base64.b64encode(b"\xff:x").decode()
        garbled = await c.get("/wp-json/x/keys", headers={"Authorization": not_utf8})
    assert by_basic.json() == {"key": "ck_1", "secret": "cs_1"}
    assert by_query.json() == {"key": "ck_2", "secret": None}
    assert garbled.status_code == 429 and garbled.headers["retry-after"] == "3"
    assert garbled.json()["data"] == {"status": 429, "retry_after": 3}


def test_enum_lists() -> None:
    values = ("pending", "completed")
    assert enum_list("any", values, "status", ("trash",)) == {"pending", "completed"}
    assert enum_list("trash, completed", values, "status", ("trash",)) == {"trash", "completed"}
    with pytest.raises(WpError) as refused:
        enum_list("draft", values, "status", ("trash",))
    assert refused.value.data == {
        "params": {"status": "status[0] is not one of any, pending, completed, trash."}
    }


def test_one_of_an_enum() -> None:
    assert one_of("id", ["date", "id"], "orderby") == "id"
    with pytest.raises(WpError) as refused:
        one_of("title", ["date", "id"], "orderby")
    assert refused.value.data == {"params": {"orderby": "orderby is not one of date, id."}}


def test_dates_in_site_time_unless_gmt() -> None:
    local = date_bounds({"after": "2026-03-01T09:00:00", "before": ""}, ZONE, "after", "before")
    assert local == {"after": datetime(2026, 3, 1, 12, tzinfo=UTC), "before": None}
    gmt = date_bounds({"after": "2026-03-01T09:00:00", "dates_are_gmt": "true"}, ZONE, "after")
    assert gmt["after"] == datetime(2026, 3, 1, 9, tzinfo=UTC)
    with pytest.raises(WpError, match="Invalid parameter"):
        date_bounds({"after": "March"}, ZONE, "after")
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert site_dates("paid", at, ZONE) == {
        "date_paid": "2026-03-01T09:00:00",
        "date_paid_gmt": "2026-03-01T12:00:00",
    }
    assert site_dates("paid", None, ZONE) == {"date_paid": None, "date_paid_gmt": None}
    assert within(at, None, None) and not within(at, at, None) and not within(at, None, at)
