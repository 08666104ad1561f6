"""The database goes away: every endpoint that needs it answers 503 JSON (never a 500,
never a hang), /readyz fails while /healthz still answers, and the service recovers
by itself once the database is back."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import uvicorn
from bench.widgets import seed_request
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from metrics_connect.api.app import create_app
from metrics_connect.runtime import Runtime
from tests.reliability.conftest import (
    StackFactory,
    create_tenant,
    json_body,
    scaled,
    url_through,
)
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


async def test_no_accepted_job_lost_across_a_database_outage(
    reliability_postgres_url: str,
    stack_factory: StackFactory,
    gate_factory: Callable[[str], Awaitable[TcpGate]],
) -> None:
    gate = await gate_factory(reliability_postgres_url)
    delivered: dict[str, int] = {}

    async def hook(request: Request) -> Response:
        body = json.loads(await request.body())
        await asyncio.sleep(1.0)  # a slow receiver: deliveries are in flight at the cut
        for widget_id in body:
            delivered[widget_id] = delivered.get(widget_id, 0) + 1
        return Response(status_code=204)

    port = free_port()
    receiver = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
    )
    serving = asyncio.create_task(receiver.serve())
    async with stack_factory(
        url_through(reliability_postgres_url, gate),
        webhook_allowlist="127.0.0.1",
        webhook_retry_schedule="0.2,0.5,1,1,1,1,1,1,1,1",
        job_lease_seconds=1.0,
        job_sweep_interval_seconds=0.2,
        job_requeue_after_seconds=1.0,
    ) as stack:
        stack.switches.latency_seconds = 0.3  # jobs are mid-compute when the database goes
        jobs: dict[str, str] = {}
        for i in range(scaled(5, 50)):
            widget_id = f"outage-job-{i}"
            body = seed_request(stack.integration)
            body["metrics"][0]["id"] = widget_id
            body["metrics_webhook_url"] = f"http://127.0.0.1:{port}/hook"
            response = await stack.client.post(
                "/metrics/get-data-async", json=body, headers=stack.headers
            )
            assert response.status_code == 200, response.text
            jobs[widget_id] = response.json()["job"]["uuid"]

        await asyncio.sleep(0.5)
        await gate.close()
        assert len(delivered) < len(jobs)  # the outage hits jobs still in flight
        await asyncio.sleep(2.0)
        some_job = next(iter(jobs.values()))
        during = await stack.client.get(f"/metrics/jobs/{some_job}", headers=stack.headers)
        assert during.status_code == 503
        assert json_body(during) == {"message": DB_DOWN_MESSAGE}
        await gate.open()

        async def all_delivered() -> bool:
            return set(delivered) == set(jobs)

        await _wait_for(all_delivered, timeout=scaled(30, 120))

        # A delivery whose outcome could not be written during the outage is delivered
        # again (at least once, same webhook-id); every job ends `delivered`.
        async def all_marked_delivered() -> bool:
            for job_uuid in jobs.values():
                response = await stack.client.get(
                    f"/metrics/jobs/{job_uuid}", headers=stack.headers
                )
                if response.status_code != 200 or response.json()["job"]["status"] != "delivered":
                    return False
            return True

        await _wait_for(all_marked_delivered, timeout=scaled(30, 120))
    receiver.should_exit = True
    await serving
