"""Malformed and deeply nested JSON bodies: 422 naming the field, one log line, no 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from metrics_connect.api.json_body import MAX_JSON_DEPTH, TOO_DEEP, BodyError, parse_json_body
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from tests.conftest import Tenant, connect_account


def nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def widget(**extra: Any) -> dict[str, Any]:
    return {
        "id": "w1",
        "component": "number_v1",
        "metrics": ["replies"],
        **extra,
    }


def get_data_body(**widget_extra: Any) -> dict[str, Any]:
    return {
        "customer_integration": "00000000-0000-0000-0000-000000000000",
        "start": "2026-01-01",
        "end": "2026-01-31",
        "metrics_webhook_url": "https://example.com/hook",
        "metrics": [widget(**widget_extra)],
    }


def post_raw(client: httpx.AsyncClient, path: str, content: bytes, headers: dict[str, str]) -> Any:
    return client.post(
        path, content=content, headers={**headers, "Content-Type": "application/json"}
    )


@pytest.mark.parametrize("endpoint", ["/metrics/get-data", "/metrics/get-data-async"])
@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH, 256, 600])
@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("custom", "metrics.0.custom"),
        ("filters", "metrics.0.filters.0.value"),
    ],
)
async def test_deep_nesting_in_a_free_form_field_is_422_naming_it(
    client: httpx.AsyncClient,
    tenant: Tenant,
    endpoint: str,
    levels: int,
    where: str,
    field: str,
) -> None:
    extra = (
        {"custom": nested(levels)}
        if where == "custom"
        else {"filters": [{"field": "x", "operator": "=", "value": nested(levels)}]}
    )
    content = json.dumps(get_data_body(**extra)).encode()
    with capture_logs() as logs:
        r = await post_raw(client, endpoint, content, tenant.headers)
    assert r.status_code == 422, r.text
    assert r.json() == {
        "message": f"{field}: Nested deeper than {MAX_JSON_DEPTH} levels.",
        "errors": {field: [f"Nested deeper than {MAX_JSON_DEPTH} levels."]},
    }
    # The access line only: no traceback, no error line.
    assert [entry["event"] for entry in logs] == ["request"]


async def test_nesting_at_the_limit_is_accepted_and_answered(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await connect_account(runtime, "instagram_business", build_sandbox().demo_account)
    # body -> metrics -> widget -> custom: three levels above the custom value.
    body = get_data_body(custom=nested(MAX_JSON_DEPTH - 3))
    body["customer_integration"] = account.integration_uuid
    content = json.dumps(body).encode()
    # explain: the request is validated and fingerprinted, and no network is called.
    r = await post_raw(client, "/metrics/get-data?explain=true", content, account.headers)
    assert r.status_code == 200, r.text
    assert "explain" in r.json()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b'{"name": "caf\xe9"}', "The body is not valid UTF-8.", id="latin-1"),
        pytest.param(b"\xff\xfe{\x00}\x00", "The body is not valid UTF-8.", id="utf-16"),
        pytest.param(b"[" * 5000 + b"]" * 5000, TOO_DEEP, id="5000-deep"),
        pytest.param(b'{"name": ' + b"[" * 1500 + b"]" * 1500 + b"}", TOO_DEEP, id="1500-deep"),
        pytest.param(b'{"name": "x",,}', "The body is not valid JSON.", id="not-json"),
    ],
)
@pytest.mark.parametrize("endpoint", ["/customers", "/metrics/get-data"])
async def test_malformed_bodies_are_422_with_errors_body(
    client: httpx.AsyncClient, tenant: Tenant, content: bytes, message: str, endpoint: str
) -> None:
    r = await post_raw(client, endpoint, content, tenant.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == {"body": [message]}


async def test_deep_nesting_in_a_typed_field_names_that_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    r = await post_raw(
        client,
        "/customers",
        json.dumps({"name": nested(MAX_JSON_DEPTH + 1)}).encode(),
        tenant.merchant_headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"name": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]}


def test_the_parser_counts_containers_not_scalars() -> None:
    assert parse_json_body(json.dumps(nested(MAX_JSON_DEPTH)).encode()) == nested(MAX_JSON_DEPTH)
    with pytest.raises(BodyError) as refused:
        parse_json_body(json.dumps([nested(MAX_JSON_DEPTH)]).encode())
    assert refused.value.path == [0, *(["a"] * (MAX_JSON_DEPTH - 1))]
    # Brackets inside strings are not nesting.
    assert parse_json_body(json.dumps({"s": "[" * 500}).encode()) == {"s": "[" * 500}


async def test_a_client_gone_mid_body_is_a_quiet_400(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    incoming = [
        {"type": "http.request", "body": b'{"name": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/customers",
        "raw_path": b"/customers",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"authorization", tenant.merchant_headers["Authorization"].encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    with capture_logs() as logs:
        await app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert [entry["event"] for entry in logs] == ["request"]
