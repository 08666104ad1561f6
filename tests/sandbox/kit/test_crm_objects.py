"""The sandbox kit's CRM object APIs: filters, sorts, pages and refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.crm_objects import (
    CategoryError,
    admit,
    after_page,
    any_group,
    check_groups,
    json_route,
    matches,
    rate_limited,
    sort_found,
    sortable,
)
from metrics_connect.sandbox.kit.records import TimedRecord

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_values_compare_as_numbers_instants_or_text() -> None:
    assert sortable("10") > sortable("9")
    # An ISO instant and its epoch milliseconds compare equal.
    assert sortable("2026-03-01T12:00:00.000Z") == sortable(str(int(T0.timestamp() * 1000)))
    assert sortable("") < sortable("5") < sortable("Beta")
    assert sortable("alpha") < sortable("Beta")


def test_filters_and_groups() -> None:
    props = {"amount": "500", "stage": "won", "closedate": "2026-03-01T12:00:00.000Z"}
    assert matches({"propertyName": "amount", "operator": "GT", "value": "499.5"}, props)
    assert not matches({"propertyName": "amount", "operator": "LT", "value": 500}, props)
    assert matches({"propertyName": "stage", "operator": "IN", "values": ["won", "x"]}, props)
    assert matches({"propertyName": "stage", "operator": "NOT_IN", "values": ["lost"]}, props)
    assert matches({"propertyName": "owner", "operator": "NOT_HAS_PROPERTY"}, props)
    assert matches({"propertyName": "owner", "operator": "NEQ", "value": "1"}, props)
    assert not matches({"propertyName": "owner", "operator": "EQ", "value": "1"}, props)
    between = {"operator": "BETWEEN", "value": "2026-01-01", "highValue": "1800000000000"}
    assert matches({"propertyName": "closedate", **between}, props)
    assert matches({"propertyName": "stage", "operator": "CONTAINS_TOKEN", "value": "*O*"}, props)
    with pytest.raises(CategoryError):
        matches({"propertyName": "stage", "operator": "LIKE", "value": "w"}, props)
    no = {"filters": [{"propertyName": "stage", "operator": "EQ", "value": "lost"}]}
    yes = {"filters": [{"propertyName": "amount", "operator": "GTE", "value": "500"}]}
    assert any_group([no, yes], props) and not any_group([no], props) and any_group([], props)
    check_groups([yes] * 5)
    with pytest.raises(CategoryError):
        check_groups([yes] * 6)
    with pytest.raises(CategoryError):
        check_groups([{"filters": yes["filters"] * 11}])


def test_sorts_and_pages() -> None:
    found = [
        (TimedRecord(str(n), "deals", T0, "createdate", "modified"), {"amount": amount})
        for n, amount in ((10, "5"), (9, "7"), (100, "5"))
    ]
    sort_found(found, [])
    assert [r.id for r, _ in found] == ["9", "10", "100"]
    sort_found(found, [{"propertyName": "amount", "direction": "DESCENDING"}])
    assert [r.id for r, _ in found] == ["9", "100", "10"]
    sort_found(found, ["amount"])
    assert [r.id for r, _ in found] == ["10", "100", "9"]
    assert after_page([1, 2, 3], 2, 0) == {
        "total": 3,
        "results": [1, 2],
        "paging": {"next": {"after": "2"}},
    }
    assert after_page([1, 2, 3], 2, 2, str) == {"total": 3, "results": ["3"]}


async def test_refusals_come_in_their_envelope_with_the_headers() -> None:
    controls = SandboxControls()
    quota: list[CategoryError | None] = [None]

    async def handler(request: Request) -> dict[str, Any]:
        await admit(controls, request, "GET /thing", lambda: quota[0])
        return {"ok": True}

    app = Starlette(routes=[json_route("/thing", handler, headers=lambda: {"X-Window": "1"})])
    token = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        missing = await client.get("/thing")
        served = await client.get("/thing", headers=token)
        quota[0] = rate_limited("daily")
        limited = await client.get("/thing", headers=token)
        quota[0] = None
        controls.switches.expired_tokens.add(DEMO_ACCESS_TOKEN)
        expired = await client.get("/thing", headers=token)
    assert missing.status_code == 401 and missing.headers["x-window"] == "1"
    assert missing.json()["category"] == "INVALID_AUTHENTICATION"
    assert missing.json()["status"] == "error" and missing.json()["correlationId"]
    assert served.json() == {"ok": True} and served.headers["x-window"] == "1"
    assert limited.status_code == 429 and limited.json()["policyName"] == "DAILY"
    assert limited.json()["message"] == "You have reached your daily limit."
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert controls.calls.by_endpoint["GET /thing"] == 4
