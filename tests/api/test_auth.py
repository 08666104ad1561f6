"""401 rules for the merchant bearer token and the customer token, on every endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Tenant

MERCHANT_ENDPOINTS = [
    ("GET", "/merchants/settings", None),
    ("POST", "/merchants/webhook-secret/rotate", None),
    ("GET", "/customers", None),
    ("POST", "/customers", {"name": "X"}),
    ("GET", "/customers/{customer}", None),
    ("PUT", "/customers/{customer}", {"name": "Y"}),
    ("DELETE", "/customers/{customer}", None),
    ("POST", "/customers/{customer}/update-payment-status", {"is_paying": True}),
]
CUSTOMER_ENDPOINTS = [
    ("GET", "/customers/settings", None),
    ("POST", "/customer-integrations/session", {}),
    ("GET", "/customer-integrations", None),
    ("GET", "/customer-integrations/00000000-0000-0000-0000-000000000000", None),
    ("DELETE", "/customer-integrations/00000000-0000-0000-0000-000000000000?session_id=x", None),
]


async def _call(
    client: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), MERCHANT_ENDPOINTS + CUSTOMER_ENDPOINTS)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic abc"])
async def test_missing_or_wrong_bearer_is_401(
    client: httpx.AsyncClient,
    tenant: Tenant,
    method: str,
    path: str,
    body: Any,
    authorization: str | None,
) -> None:
    headers = {"x-customer-token": tenant.customer_token}
    if authorization is not None:
        headers["Authorization"] = authorization
    r = await _call(client, method, path.format(customer=tenant.customer_uuid), body, headers)
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthenticated."}


@pytest.mark.parametrize(("method", "path", "body"), CUSTOMER_ENDPOINTS)
async def test_missing_wrong_or_foreign_customer_token_is_401(
    client: httpx.AsyncClient, make_tenant: Any, method: str, path: str, body: Any
) -> None:
    a: Tenant = await make_tenant("A")
    b: Tenant = await make_tenant("B")
    for customer_token in (None, "not-a-token", b.customer_token):
        headers = dict(a.merchant_headers)
        if customer_token is not None:
            headers["x-customer-token"] = customer_token
        r = await _call(client, method, path, body, headers)
        assert r.status_code == 401, (customer_token, r.text)
        assert r.json() == {"message": "Invalid Customer Token"}


async def test_valid_tokens_authenticate(client: httpx.AsyncClient, tenant: Tenant) -> None:
    r = await client.get("/customers/settings", headers=tenant.headers)
    assert r.status_code == 200
    assert r.json()["customer"]["uuid"] == tenant.customer_uuid


@pytest.mark.parametrize("authorization", ["Bearer ", "wrong", "bearer", "Bearer a b"])
async def test_malformed_authorization_headers_are_401(
    client: httpx.AsyncClient, authorization: str
) -> None:
    r = await client.get("/merchants/settings", headers={"Authorization": authorization})
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthenticated."}


@pytest.mark.parametrize(("method", "path", "body"), MERCHANT_ENDPOINTS + CUSTOMER_ENDPOINTS)
@pytest.mark.parametrize("order", ["valid first", "valid last", "both valid"])
async def test_two_authorization_headers_are_400(
    client: httpx.AsyncClient,
    tenant: Tenant,
    method: str,
    path: str,
    body: Any,
    order: str,
) -> None:
    path = path.format(customer=tenant.customer_uuid)
    valid = f"Bearer {tenant.merchant_token}"
    pair = {
        "valid first": [valid, "Bearer someone-else"],
        "valid last": ["Bearer someone-else", valid],
        "both valid": [valid, valid],
    }[order]
    headers = [("Authorization", value) for value in pair]
    headers.append(("x-customer-token", tenant.customer_token))
    r = await client.request(method, path, json=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json() == {
        "message": "The Authorization header was sent more than once.",
        "errors": {"Authorization": ["Send this header once."]},
    }


@pytest.mark.parametrize(("method", "path", "body"), CUSTOMER_ENDPOINTS)
async def test_two_customer_tokens_are_400(
    client: httpx.AsyncClient, tenant: Tenant, method: str, path: str, body: Any
) -> None:
    headers = [
        ("Authorization", f"Bearer {tenant.merchant_token}"),
        ("x-customer-token", tenant.customer_token),
        ("x-customer-token", "another"),
    ]
    r = await client.request(method, path, json=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == {"x-customer-token": ["Send this header once."]}
