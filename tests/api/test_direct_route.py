"""DirectRoute (POST /metrics/get-data) answers what FastAPI's own dependency solving
answers: the same status, body and headers for each error and for a valid request.

FastAPI's handler is the route's fallback while `app.dependency_overrides` is set, so
each request is sent once each way, to the same app and the same database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from metrics_connect.api.direct_route import DirectRoute
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from tests.conftest import connect_account, serving


def _unused_dependency() -> None:
    """Overridden only so that FastAPI's handler answers (see the module's docstring)."""


def _widget() -> dict[str, Any]:
    return {
        "id": "w1",
        "reference_key": "ig:story_replies",
        "component": "number_v1",
        "metrics": ["replies"],
        "dimensions": ["stories"],
    }


def _body(integration: str, **overrides: Any) -> dict[str, Any]:
    return {
        "customer_integration": integration,
        "start": "2026-01-01",
        "end": "2026-01-10",
        "metrics": [_widget()],
        **overrides,
    }


async def _both_ways(
    app: FastAPI, client: httpx.AsyncClient, **request: Any
) -> tuple[httpx.Response, httpx.Response]:
    direct = await client.request("POST", **request)
    app.dependency_overrides[_unused_dependency] = lambda: None
    try:
        solved = await client.request("POST", **request)
    finally:
        app.dependency_overrides.clear()
    return direct, solved


def _same(direct: httpx.Response, solved: httpx.Response) -> None:
    assert (direct.status_code, direct.content) == (solved.status_code, solved.content)
    skip = {"x-request-id", "x-ratelimit-remaining"}
    assert {k: v for k, v in direct.headers.items() if k not in skip} == {
        k: v for k, v in solved.headers.items() if k not in skip
    }


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


async def test_errors_and_answers_match_fastapis_handler(
    app: FastAPI, runtime: Runtime, served: httpx.AsyncClient
) -> None:
    network = build_sandbox()
    runtime.upstream_transports["instagram_business"] = httpx.ASGITransport(app=network.app)
    account = await connect_account(runtime, "instagram_business", network.demo_account)
    uuid, headers = account.integration_uuid, account.headers
    url = "/metrics/get-data"
    no_customer = {"Authorization": headers["Authorization"]}
    cases: list[dict[str, Any]] = [
        {"url": url, "json": _body(uuid)},
        {"url": url + "?explain=true", "json": _body(uuid)},
        {"url": url + "?explain=maybe", "json": _body(uuid)},
        {"url": url + "?explain=maybe", "json": _body(uuid, start="never")},
        {"url": url, "json": _body(uuid, metrics=[])},
        {"url": url, "json": {"start": "2026-01-01"}},
        {"url": url, "json": [1, 2]},
        {"url": url, "content": b""},
        {"url": url, "content": b"{", "headers": {"content-type": "application/json"}},
        {"url": url, "content": b"start=1", "headers": {"content-type": "text/plain"}},
        {"url": url, "json": _body("00000000-0000-0000-0000-000000000000")},
    ]
    for case in cases:
        case["headers"] = {**headers, **case.get("headers", {})}
    cases += [
        {"url": url, "json": _body(uuid)},  # no credentials
        {"url": url, "json": _body(uuid), "headers": no_customer},
        {"url": url, "json": _body(uuid), "headers": {**headers, "x-customer-token": "no"}},
    ]
    for case in cases:
        direct, solved = await _both_ways(app, served, **case)
        _same(direct, solved)
    assert (await served.post(url, json=_body(uuid), headers=headers)).status_code == 200


async def test_rate_limit_counts_one_hit_per_request(
    served: httpx.AsyncClient, make_tenant: Any
) -> None:
    """The merchant is authenticated (and its budget charged) once, as with FastAPI's
    per-request cache of a dependency that two others depend on."""
    tenant = await make_tenant("Limited", per_second=1000, per_minute=5)
    body = _body("00000000-0000-0000-0000-000000000000")
    remaining = []
    for _ in range(3):
        answer = await served.post("/metrics/get-data", json=body, headers=tenant.headers)
        assert answer.status_code == 404
        remaining.append(answer.headers["x-ratelimit-remaining"])
    assert remaining == ["4", "3", "2"]


def _build(endpoint: Any, dependency: Any) -> None:
    router = APIRouter(route_class=DirectRoute)
    router.post("/x", dependencies=[Depends(dependency)])(endpoint)


async def test_refuses_what_it_cannot_call_directly() -> None:
    async def answer() -> Response:
        return Response(b"{}")

    async def plain(request: Request) -> None:
        return None

    async def with_yield(request: Request) -> AsyncIterator[None]:
        yield None

    def in_thread(request: Request) -> None:
        return None

    async def with_query(q: int) -> None:
        return None

    async def returns_dict() -> dict[str, Any]:
        return {}

    _build(answer, plain)
    for dependency in (with_yield, in_thread, with_query):
        with pytest.raises(TypeError, match="DirectRoute cannot call"):
            _build(answer, dependency)
    with pytest.raises(TypeError, match="must return a Response"):
        _build(returns_dict, plain)
