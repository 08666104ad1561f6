"""The error format: JSON always, 404/405/413/422, never a trace."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient) -> None:
    r = await client.get("/nowhere")
    assert r.status_code == 404
    assert r.json() == {"message": "Not Found"}
    r = await client.delete("/healthz")
    assert r.status_code == 405
    assert r.json() == {"message": "Method Not Allowed"}


async def test_malformed_json_is_422_json(client: httpx.AsyncClient, tenant: Tenant) -> None:
    r = await client.post(
        "/customers",
        content=b'{"name": "x",,}',
        headers={**tenant.merchant_headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["errors"] == {"body": ["The body is not valid JSON."]}
    assert "Traceback" not in r.text


async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient, tenant: Tenant) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    r = await client.post(
        "/customers",
        content=big,
        headers={**tenant.merchant_headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json() == {"message": "Request body too large"}


async def test_body_over_the_limit_without_content_length_is_413(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * (64 * 1024)

    r = await client.post(
        "/customers",
        content=chunks(),
        headers={**tenant.merchant_headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    listed = await client.get("/customers", headers=tenant.merchant_headers)
    assert listed.json()["meta"]["total"] == 1


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/healthz", headers={"X-Request-ID": "bad id\n"})
    assert r.headers["x-request-id"] != "bad id\n"
