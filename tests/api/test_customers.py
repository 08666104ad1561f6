from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import FrozenClock, Tenant


async def test_create_customer_shows_token_once_and_starts_a_7_day_trial(
    client: httpx.AsyncClient, tenant: Tenant, frozen_clock: FrozenClock
) -> None:
    r = await client.post("/customers", json={"name": "Shop"}, headers=tenant.merchant_headers)
    assert r.status_code == 201
    c = r.json()["customer"]
    assert c["name"] == "Shop"
    assert c["is_paying"] is False
    assert c["merchant"] == "Agency"
    assert len(c["api_token"]) >= 64  # 32 random bytes, hex
    assert c["created_at"] == "2026-01-15 12:00:00"
    assert c["trial_ends_at"] == "2026-01-22 12:00:00"
    shown = await client.get(f"/customers/{c['uuid']}", headers=tenant.merchant_headers)
    assert shown.status_code == 200
    assert "api_token" not in shown.json()["customer"]
    listed = await client.get("/customers", headers=tenant.merchant_headers)
    assert all("api_token" not in row for row in listed.json()["data"])


async def test_the_new_token_authenticates_its_customer(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    r = await client.post("/customers", json={"name": "Shop"}, headers=tenant.merchant_headers)
    token = r.json()["customer"]["api_token"]
    me = await client.get(
        "/customers/settings", headers={**tenant.merchant_headers, "x-customer-token": token}
    )
    assert me.status_code == 200
    assert me.json()["customer"]["name"] == "Shop"
    assert me.json()["customer"]["integrations"] == []


async def test_update_delete_and_payment_status(client: httpx.AsyncClient, tenant: Tenant) -> None:
    h = tenant.merchant_headers
    uuid = tenant.customer_uuid
    r = await client.put(f"/customers/{uuid}", json={"name": "Renamed"}, headers=h)
    assert r.status_code == 200
    assert r.json()["customer"]["name"] == "Renamed"
    r = await client.post(
        f"/customers/{uuid}/update-payment-status", json={"is_paying": False}, headers=h
    )
    assert r.status_code == 200
    assert r.json()["success"] is True
    assert (await client.get(f"/customers/{uuid}", headers=h)).json()["customer"][
        "is_paying"
    ] is False
    r = await client.delete(f"/customers/{uuid}", headers=h)
    assert r.json() == {"success": True, "message": "Record successfully removed"}
    assert (await client.get(f"/customers/{uuid}", headers=h)).status_code == 404
    # A deleted customer's token no longer authenticates.
    r = await client.get("/customers/settings", headers=tenant.headers)
    assert r.status_code == 401


async def test_merchant_b_gets_404_for_merchant_a_customers(
    client: httpx.AsyncClient, make_tenant: Any
) -> None:
    a: Tenant = await make_tenant("A")
    b: Tenant = await make_tenant("B")
    path = f"/customers/{a.customer_uuid}"
    for method, url, body in [
        ("GET", path, None),
        ("PUT", path, {"name": "hijack"}),
        ("POST", f"{path}/update-payment-status", {"is_paying": True}),
        ("DELETE", path, None),
    ]:
        r = await client.request(method, url, json=body, headers=b.merchant_headers)
        assert r.status_code == 404, (method, url)
        assert "A customer" not in r.text
    listed = await client.get("/customers", headers=b.merchant_headers)
    assert [c["uuid"] for c in listed.json()["data"]] == [b.customer_uuid]
    # Nothing changed for A.
    mine = await client.get(path, headers=a.merchant_headers)
    assert mine.json()["customer"]["name"] == "A customer"


async def test_pagination_edges(client: httpx.AsyncClient, tenant: Tenant) -> None:
    h = tenant.merchant_headers
    for i in range(4):
        await client.post("/customers", json={"name": f"C{i}"}, headers=h)
    r = await client.get("/customers?per_page=2&page=2", headers=h)
    body = r.json()
    assert [c["name"] for c in body["data"]] == ["C1", "C2"]
    assert body["meta"] == {
        "current_page": 2,
        "from": 3,
        "last_page": 3,
        "per_page": 2,
        "to": 4,
        "total": 5,
    }
    past = (await client.get("/customers?per_page=2&page=9", headers=h)).json()
    assert past["data"] == []
    assert past["meta"]["total"] == 5
    assert past["meta"]["from"] is None
    default = (await client.get("/customers", headers=h)).json()
    assert default["meta"]["per_page"] == 15
    for query in ("per_page=101", "per_page=0", "page=0", "page=abc"):
        r = await client.get(f"/customers?{query}", headers=h)
        assert r.status_code == 422, query
        assert r.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 12}, "name"),
        ({"name": "x" * 256}, "name"),
        ([], "body"),
    ],
)
async def test_invalid_customer_bodies_are_422_and_change_nothing(
    client: httpx.AsyncClient, tenant: Tenant, body: Any, field: str
) -> None:
    r = await client.post("/customers", json=body, headers=tenant.merchant_headers)
    assert r.status_code == 422
    assert field in r.json()["errors"]
    listed = await client.get("/customers", headers=tenant.merchant_headers)
    assert listed.json()["meta"]["total"] == 1


async def test_wrong_type_for_is_paying_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    r = await client.post(
        f"/customers/{tenant.customer_uuid}/update-payment-status",
        json={"is_paying": "maybe"},
        headers=tenant.merchant_headers,
    )
    assert r.status_code == 422
    assert "is_paying" in r.json()["errors"]
