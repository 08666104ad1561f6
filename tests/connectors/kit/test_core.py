"""The kit core on a small plain-JSON network: the streams.yaml format, windows,
paginators, the error map, OAuth refresh, quotas, and explain == the calls fetch makes."""

from __future__ import annotations

import json
import os
import uuid
from datetime import date
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx
import pytest

from metrics_connect.connectors.base import (
    ConnectorContext,
    FetchRequest,
    IntegrationExpired,
    UpstreamError,
    UpstreamRateLimited,
)
from metrics_connect.connectors.kit import windows
from metrics_connect.connectors.kit.errors import ErrorMap, Failure, QuotaExhausted, is_retryable
from metrics_connect.connectors.kit.executor import KitConnector, add_differences
from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.quotas import UpstreamQuota
from metrics_connect.connectors.kit.spec import (
    Paginator,
    Quota,
    Selector,
    Streams,
    StreamsError,
    Window,
    load_streams,
)
from metrics_connect.settings import Settings

SHOP = {
    "network": "shop",
    "api": {"family": "json_rest", "auth": {"placement": "bearer"}},
    "errors": {
        "map": [
            {"http_status": [401], "outcome": "expired"},
            {
                "http_status": [429],
                "outcome": "rate_limited",
                "retry_after": ["retry_after_header"],
            },
            {"http_status": ["500-599"], "outcome": "transient"},
        ]
    },
    "field_groups": {"money": ["revenue", "refunds"]},
    "datasets": {
        "orders_daily": {
            "kind": "daily",
            "fields": ["orders", "@money", "net:@money"],
            "max_days_per_call": 7,
            "requesters": [
                {
                    "path": "/orders/daily",
                    "params": {"from": "{start}", "to": "{end}", "group": "{breakdowns}"},
                    "window": {"max_days": 7},
                    "paginator": {"type": "page_number", "param": "page", "page_size": 2},
                    "selector": {"records": "data.rows", "field_map": {"date": "day"}},
                }
            ],
        },
        "orders": {
            "kind": "objects",
            "fields": ["status", "total"],
            "requesters": [
                {
                    "name": "list",
                    "path": "/orders",
                    "paginator": {
                        "type": "page_token",
                        "cursor_path": "next",
                        "next_path": None,
                        "param": "page_token",
                    },
                    "selector": {"records": "orders"},
                }
            ],
            "objects": {"created": "created_at", "attributes": ["status"], "values": ["total"]},
        },
    },
}


def test_field_groups_expand_and_facts_become_dataset_specs() -> None:
    streams = Streams.model_validate(json.loads(json.dumps(SHOP)))
    spec = streams.dataset_specs()["orders_daily"]
    assert spec.fields == ("orders", "revenue", "refunds", "net:revenue", "net:refunds")
    assert spec.max_days_per_call == 7 and spec.kind == "daily"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"datasets": {"x": {"kind": "weekly", "fields": []}}}, "kind"),
        ({"datasets": {"x": {"kind": "daily", "fields": ["@nope"]}}}, "unknown field group"),
        ({"errors": {"map": [{"code": ["4-x"], "outcome": "expired"}]}}, "range"),
        ({"errors": {"map": [{"http_status": [500], "outcome": "maybe"}]}}, "outcome"),
        ({"datasets": {"x": {"kind": "daily", "fields": [], "requesters": [{"pth": "/"}]}}}, "pth"),
        (
            {"datasets": {"x": {"kind": "daily", "fields": [], "requesters": [{"path": "/"}] * 2}}},
            "repeat",
        ),
    ],
)
def test_a_bad_streams_file_says_where(tmp_path: Path, change: dict[str, Any], words: str) -> None:
    path = tmp_path / "streams.yaml"
    path.write_text(json.dumps({**SHOP, **change}))
    with pytest.raises(StreamsError) as raised:
        load_streams(path)
    assert str(path) in str(raised.value) and words in str(raised.value)


def test_windows_split_at_days_and_seconds_and_clip_to_what_is_served() -> None:
    tz = windows.zone("America/New_York")
    # 2024-03-10 has 23 hours, 2024-11-03 has 25: at most 30 days and 2592000 s.
    spans = windows.split(date(2024, 10, 20), date(2024, 11, 30), 30, tz, 30 * 86400)
    assert spans[0] == (date(2024, 10, 20), date(2024, 11, 17))  # 29 days: 30 would be 1 h over
    assert windows.split(date(2024, 1, 1), date(2024, 1, 10), 7, tz) == [
        (date(2024, 1, 1), date(2024, 1, 7)),
        (date(2024, 1, 8), date(2024, 1, 10)),
    ]
    today = date(2024, 6, 30)
    served = Window(serves_last_days=30, until="yesterday", max_days=30)
    assert windows.windows(date(2024, 1, 1), today, served, tz, today) == [
        (date(2024, 5, 31), date(2024, 6, 29))
    ]
    now = Window(now_only=True)
    assert windows.windows(date(2024, 1, 1), date(2024, 1, 2), now, tz, today) == []
    assert windows.windows(date(2024, 6, 1), today, now, tz, today) == [(today, today)]
    unix = windows.bounds(
        date(2024, 3, 1), date(2024, 3, 1), Window(encoding="unix_local_midnight"), tz
    )
    assert int(unix["until"]) - int(unix["since"]) == 86400


def test_error_map_first_match_ranges_and_retry_after() -> None:
    streams = Streams.model_validate(
        {
            "network": "x",
            "api": {"family": "google"},
            "errors": {
                "map": [
                    {
                        "status": ["RESOURCE_EXHAUSTED"],
                        "message_contains": ["per day"],
                        "outcome": "rate_limited",
                        "retryable": False,
                        "retry_after": ["quota_renewal"],
                    },
                    {"code": ["80000-80014"], "outcome": "rate_limited"},
                    {
                        "http_status": [429],
                        "outcome": "rate_limited",
                        "retry_after": ["retry_after_header"],
                    },
                    {"code": [1], "subcode": [99], "outcome": "too_much_data"},
                    {"no_code": True, "http_status": [401], "outcome": "expired"},
                ]
            },
            "datasets": {},
        }
    )
    errors = ErrorMap(streams.errors, {"quota_renewal": lambda f, h: 3600.0})
    daily = errors.classify(
        Failure(429, message="Exhausted tokens per day", status_text="RESOURCE_EXHAUSTED")
    )
    assert (
        isinstance(daily, QuotaExhausted) and daily.retry_after == 3600 and not is_retryable(daily)
    )
    assert errors.classify(Failure(400, code=80007)).code == "upstream_rate_limited"
    limited = errors.classify(Failure(429), {"retry-after": "2.5"})
    assert isinstance(limited, UpstreamRateLimited) and limited.retry_after == 2.5
    assert is_retryable(limited)
    assert type(errors.classify(Failure(400, code=1, subcode=99))).__name__ == "TooMuchData"
    assert isinstance(errors.classify(Failure(401)), IntegrationExpired)
    assert type(errors.classify(Failure(401, code=5))) is UpstreamError  # no rule: bad request


def context(handler: Any, **settings: Any) -> ConnectorContext:
    return ConnectorContext(
        integration_uuid="i",
        external_id="42",
        credentials={"access_token": "old", "refresh_token": "r"},
        timezone="UTC",
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        base_url="http://shop.test",
        settings=Settings(upstream_retry_budget_seconds=2.0, credentials_key="unused", **settings),
    )


@pytest.mark.parametrize(
    ("paginator", "pages"),
    [
        (Paginator(type="cursor", cursor_path="next", next_path=None, param="cursor"), 3),
        (
            Paginator(
                type="page_token", cursor_path="nextPageToken", next_path=None, param="pageToken"
            ),
            3,
        ),
        (Paginator(type="offset_total", page_size=2, total_path="total"), 3),
        (Paginator(type="page_number", param="page", page_size=2), 3),
        (Paginator(type="link_header"), 3),
        (Paginator(type="none"), 1),
    ],
)
async def test_every_paginator_reaches_the_last_page(paginator: Paginator, pages: int) -> None:
    items = [{"id": i} for i in range(5)]  # 2 + 2 + 1
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        seen.append(query)
        page = len(seen) - 1
        body: dict[str, Any] = {"data": items[2 * page : 2 * page + 2], "total": 5}
        headers = {}
        if page < 2:
            body |= {"next": f"c{page}", "nextPageToken": f"t{page}"}
            headers["link"] = f'<http://shop.test/items?p={page + 1}>; rel="next"'
        return httpx.Response(200, json=body, headers=headers)

    client = KitClient(context(handler), Streams.model_validate(SHOP))
    records, _ = await client.paged("GET", "/items", {}, paginator, Selector())
    assert len(seen) == pages
    assert records == items[: 2 * pages if pages == 1 else 5]
    assert "access_token" not in str(seen)  # bearer placement


class ShopConnector(KitConnector):
    slug: ClassVar[str] = "shop"
    streams = Streams.model_validate(SHOP)

    async def account_info(self) -> Any:
        raise NotImplementedError


async def test_explain_is_the_calls_fetch_makes_and_rows_come_from_the_selector() -> None:
    made: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        made.append(f"{query['from']}..{query['to']} p{query['page']}")
        assert request.headers["authorization"] == "Bearer old"
        day = date.fromisoformat(query["from"])
        rows = (
            [{"date": day.isoformat(), "orders": 3, "revenue": 9.5}] if query["page"] == "1" else []
        )
        return httpx.Response(200, json={"data": {"rows": rows}})

    connector = ShopConnector(context(handler))
    request = FetchRequest("orders_daily", date(2024, 1, 1), date(2024, 1, 10))
    planned = connector.plan_calls(request)
    assert [(c.params["from"], c.params["to"]) for c in planned] == [
        ("2024-01-01", "2024-01-07"),
        ("2024-01-08", "2024-01-10"),
    ]
    assert "group" not in planned[0].params  # rendered empty: left out
    result = await connector.fetch(request)
    # each planned call, then its second (empty) page
    assert made == ["2024-01-01..2024-01-07 p1", "2024-01-08..2024-01-10 p1"]
    assert [(r.day, r.values) for r in result.rows] == [
        (date(2024, 1, 1), {"orders": 3, "revenue": 9.5}),
        (date(2024, 1, 8), {"orders": 3, "revenue": 9.5}),
    ]


def test_differences_are_not_asked_and_computed_from_the_answer() -> None:
    shop = json.loads(json.dumps(SHOP))
    shop["datasets"]["orders_daily"]["differences"] = {"net:revenue": ["revenue", "refunds"]}
    stream = Streams.model_validate(shop).datasets["orders_daily"]
    assert stream.asked_fields == ("orders", "revenue", "refunds", "net:refunds")
    values: dict[str, Any] = {"revenue": 9.5, "refunds": 2}
    add_differences(values, stream.differences)
    assert values["net:revenue"] == 7.5
    missing: dict[str, Any] = {"revenue": 4}  # an absent part counts 0
    add_differences(missing, stream.differences)
    assert missing["net:revenue"] == 4


def test_a_breakdown_the_dataset_does_not_declare_is_refused() -> None:
    connector = ShopConnector(context(lambda request: httpx.Response(500)))
    connector.refuse_unknown_breakdowns(
        FetchRequest("orders_daily", date(2024, 1, 1), date(2024, 1, 1))
    )
    with pytest.raises(UpstreamError, match="cannot break down by city, country"):
        request = FetchRequest(
            "orders_daily", date(2024, 1, 1), date(2024, 1, 1), breakdowns=("country", "city")
        )
        connector.refuse_unknown_breakdowns(request)


async def test_an_expired_token_is_refreshed_once_with_authlib_then_used() -> None:
    forms: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            forms.append(parse_qs(request.content.decode()))
            return httpx.Response(200, json={"access_token": "new", "expires_in": 3600})
        if request.headers["authorization"] != "Bearer new":
            return httpx.Response(401, json={})
        return httpx.Response(200, json={"data": [{"id": 1}]})

    streams = Streams.model_validate(
        {
            **SHOP,
            "api": {
                "family": "json_rest",
                "auth": {
                    "placement": "bearer",
                    "refresh_token_url_setting": "google_token_url",
                    "refresh_client_id_setting": "google_client_id",
                },
            },
        }
    )
    ctx = context(handler, google_token_url="http://shop.test/token", google_client_id="cid")
    client = KitClient(ctx, streams)
    assert await client.get("/items", {}) == {"data": [{"id": 1}]}
    assert ctx.credentials["access_token"] == "new"
    assert forms == [
        {"grant_type": ["refresh_token"], "refresh_token": ["r"], "client_id": ["cid"]}
    ]
    ctx.credentials["access_token"] = "stale again"
    with pytest.raises(IntegrationExpired):
        await client.get("/items", {})  # once per client: no second refresh
    assert len(forms) == 1


async def test_a_quota_waits_for_room_and_gives_up_past_the_budget() -> None:
    quota = UpstreamQuota("quota-test", Quota(per_second=2))
    await quota.acquire("acct", 0.0)
    await quota.acquire("acct", 0.0)
    with pytest.raises(UpstreamRateLimited) as raised:
        await quota.acquire("acct", 0.0)  # third in the same second, no budget to wait
    assert raised.value.retry_after is not None and raised.value.retry_after <= 1.0
    await quota.acquire("acct", 2.0)  # waits for the window to move on
    await quota.acquire("other", 0.0)  # per account


async def test_objects_are_listed_and_mapped_by_the_objects_map() -> None:
    pages = {
        None: {
            "orders": [
                {"id": 1, "created_at": "2024-01-02T01:30:00Z", "status": "paid", "total": 9.5}
            ],
            "next": "p2",
        },
        "p2": {"orders": [{"id": 2, "created_at": "2023-12-20T10:00:00+0000", "total": 3}]},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        token = parse_qs(request.url.query.decode()).get("page_token", [None])[0]
        return httpx.Response(200, json=pages[token])

    connector = ShopConnector(context(handler))
    request = FetchRequest("orders", date(2024, 1, 1), date(2024, 1, 31))
    assert [c.estimated for c in connector.plan_calls(request)] == [True]
    (row,) = (await connector.fetch(request)).objects  # the December order is outside
    assert (row.id, row.day, row.values) == ("1", date(2024, 1, 2), {"total": 9.5})
    assert row.attributes == {"status": "paid", "created_at": "2024-01-02 01:30:00"}


@pytest.mark.redis
async def test_a_quota_in_redis_is_shared_by_every_process() -> None:
    redis_url = os.environ.get("METRICS_CONNECT_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("Redis tests need METRICS_CONNECT_TEST_REDIS_URL")
    network = f"quota-{uuid.uuid4().hex}"  # a run of its own
    one, two = (UpstreamQuota(network, Quota(per_minute=2), redis_url) for _ in range(2))
    await one.acquire("acct", 0.0)
    await two.acquire("acct", 0.0)
    with pytest.raises(UpstreamRateLimited):
        await one.acquire("acct", 0.0)  # the other process took the rest of the minute
