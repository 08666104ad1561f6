"""The database goes away: every endpoint that needs it answers 503 JSON (never a 500,
never a hang), /readyz fails while /healthz still answers, and the service recovers
by itself once the database is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI

from metrics_connect.api.app import create_app
from metrics_connect.runtime import Runtime
from tests.reliability.conftest import create_tenant, json_body, url_through
from tests.reliability.gate import TcpGate, free_port

DB_DOWN_MESSAGE = "The database is unavailable; try again shortly."


async def _probe(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, int]:
    """Status per route while the test flips the database."""
    started = time.monotonic()
    results = {
        "merchant": (await client.get("/merchants/settings", headers=headers)).status_code,
        "customers": (await client.get("/customers", headers=headers)).status_code,
        "create": (
            await client.post("/customers", headers=headers, json={"name": "During outage"})
        ).status_code,
        "readyz": (await client.get("/readyz")).status_code,
        "healthz": (await client.get("/healthz")).status_code,
    }
    # A refused connection must fail fast: no request waits on a dead database.
    assert time.monotonic() - started < 10
    return results


async def test_unreachable_database_answers_503_json(settings_factory: Callable[..., Any]) -> None:
    # Nothing listens on this port: PostgreSQL "down" from the first request.
    settings = settings_factory(f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    app = create_app(runtime=Runtime.from_settings(settings))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer mc_not_checked_without_a_database"}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for method, path in (
            ("GET", "/merchants/settings"),
            ("GET", "/customers"),
            ("POST", "/customers"),
        ):
            response = await client.request(method, path, headers=headers, json={"name": "x"})
            assert response.status_code == 503, (path, response.text)
            assert json_body(response) == {"message": DB_DOWN_MESSAGE}
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert json_body(ready)["database"] == "unreachable"
        assert (await client.get("/healthz")).status_code == 200
    await app.state.runtime.db.dispose()


async def _wait_for(check: Callable[[], Awaitable[bool]], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"not recovered within {timeout} s")


async def test_database_outage_and_recovery(
    reliability_postgres_url: str,
    settings_factory: Callable[..., Any],
    gate_factory: Callable[[str], Awaitable[TcpGate]],
) -> None:
    gate = await gate_factory(reliability_postgres_url)
    settings = settings_factory(url_through(reliability_postgres_url, gate))
    runtime = Runtime.from_settings(settings)
    app: FastAPI = create_app(runtime=runtime)
    tenant = await create_tenant(runtime)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        before = await _probe(client, tenant.merchant_headers)
        assert before == {
            "merchant": 200,
            "customers": 200,
            "create": 201,
            "readyz": 200,
            "healthz": 200,
        }

        await gate.close()  # the database host goes away; pooled connections are cut
        for _ in range(3):  # every try, not just the first after the cut
            during = await _probe(client, tenant.merchant_headers)
            assert during == {
                "merchant": 503,
                "customers": 503,
                "create": 503,
                "readyz": 503,
                "healthz": 200,
            }
        response = await client.get("/customers", headers=tenant.merchant_headers)
        assert json_body(response) == {"message": DB_DOWN_MESSAGE}

        await gate.open()

        async def healthy() -> bool:
            response = await client.get("/customers", headers=tenant.merchant_headers)
            return response.status_code == 200

        await _wait_for(healthy, timeout=15)
        after = await _probe(client, tenant.merchant_headers)
        assert after == {
            "merchant": 200,
            "customers": 200,
            "create": 201,
            "readyz": 200,
            "healthz": 200,
        }
        # Nothing refused during the outage half-landed: the two accepted creates only.
        listed = await client.get("/customers?per_page=100", headers=tenant.merchant_headers)
        names = [c["name"] for c in listed.json()["data"]]
        assert names.count("During outage") == 2
