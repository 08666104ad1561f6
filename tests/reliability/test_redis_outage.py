"""Redis unreachable in distributed mode. The documented behaviour (ratelimit.py, and
docs/benchmarks.md#reliability): per-merchant limits degrade to local in-memory limits,
traffic is still answered and still limited, and the limiter goes back to Redis once it
answers again (retried every REDIS_RETRY_SECONDS)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import redis
from bench.widgets import dashboard_request

from metrics_connect import clock, ratelimit
from metrics_connect.api.app import create_app
from metrics_connect.engine.days import account_today
from metrics_connect.ratelimit import MerchantRateLimiter
from metrics_connect.runtime import Runtime
from tests.reliability.conftest import StackFactory, create_tenant, json_body, url_through
from tests.reliability.gate import TcpGate, free_port


def redis_keys(url: str, merchant_key: str) -> int:
    """How many limiter windows of this merchant Redis holds."""
    client = redis.Redis.from_url(url)
    try:
        return sum(1 for _ in client.scan_iter(match=f"*{merchant_key}*"))
    finally:
        client.close()


async def test_limiter_without_redis_still_limits_locally() -> None:
    limiter = MerchantRateLimiter(f"redis://127.0.0.1:{free_port()}/0")
    key = str(uuid.uuid4())
    # 7 hits in well under a second cross at most one minute boundary, so one window
    # sees at least 4 hits against a limit of 3: local limits are enforced, not dropped.
    decisions = [await limiter.hit(key, per_second=100, per_minute=3) for _ in range(7)]
    assert decisions[0].allowed
    assert any(not d.allowed for d in decisions)
    assert all(d.retry_after >= 1 for d in decisions if not d.allowed)


async def test_api_answers_with_redis_down(
    sqlite_url: str, settings_factory: Callable[..., Any]
) -> None:
    settings = settings_factory(sqlite_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    runtime = Runtime.from_settings(settings)
    app = create_app(runtime=runtime)
    tenant = await create_tenant(runtime, per_second=100, per_minute=3)
    statuses = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        for _ in range(7):
            response = await client.get("/merchants/settings", headers=tenant.merchant_headers)
            json_body(response)
            assert "X-RateLimit-Limit" in response.headers
            statuses.append(response.status_code)
    assert statuses[0] == 200
    assert set(statuses) == {200, 429}  # answered and limited; never 500 or 503


async def test_limiter_degrades_and_returns_to_redis(
    live_redis_url: str,
    gate_factory: Callable[[str], Awaitable[TcpGate]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ratelimit, "REDIS_RETRY_SECONDS", 0.2)
    gate = await gate_factory(live_redis_url)
    limiter = MerchantRateLimiter(url_through(live_redis_url, gate))
    assert limiter.backend == "redis"

    up = str(uuid.uuid4())
    assert (await limiter.hit(up, 1000, 100000)).allowed
    assert redis_keys(live_redis_url, up) >= 1  # counted in Redis while it answers

    await gate.close()
    down = str(uuid.uuid4())
    for _ in range(3):
        assert (await limiter.hit(down, 1000, 100000)).allowed  # degraded, not refused
    assert redis_keys(live_redis_url, down) == 0  # counted locally

    await gate.open()
    back = str(uuid.uuid4())
    await asyncio.sleep(0.3)  # past the retry delay: the next hit tries Redis again
    assert (await limiter.hit(back, 1000, 100000)).allowed
    assert redis_keys(live_redis_url, back) >= 1  # back on Redis


async def test_two_processes_share_one_budget_through_redis(live_redis_url: str) -> None:
    # Two limiters = two API processes: one merchant's minute budget is shared, so what
    # the first spent, the second cannot spend (local limits would allow it).
    first, second = MerchantRateLimiter(live_redis_url), MerchantRateLimiter(live_redis_url)
    for _ in range(3):
        key, minute = str(uuid.uuid4()), int(time.time() // 60)
        spent = [(await first.hit(key, 1000, 4)).allowed for _ in range(4)]
        other = await second.hit(key, 1000, 4)
        if int(time.time() // 60) != minute:
            continue  # a new minute window began mid-test: try again
        assert spent == [True] * 4
        assert not other.allowed
        assert other.retry_after >= 1
        return
    pytest.fail("could not stay inside one minute window")


async def test_metrics_answer_with_redis_down(stack_factory: StackFactory) -> None:
    # Distributed mode (Redis configured) with Redis unreachable: the cross-process fetch
    # lock degrades to fetching without it; the request is still answered.
    async with stack_factory(redis_url=f"redis://127.0.0.1:{free_port()}/0") as stack:
        today = account_today(clock.now(), stack.timezone)
        body = dashboard_request(stack.integration, today, days=7)  # needs upstream fetches
        response = await stack.client.post("/metrics/get-data", json=body, headers=stack.headers)
        assert response.status_code == 200, response.text
        failed = {v["error"]["code"] for v in response.json().values() if "error" in v}
        assert failed <= {"data_not_available"}, failed


async def test_async_jobs_accepted_with_the_broker_down(stack_factory: StackFactory) -> None:
    # The job row is the truth: with the Redis broker unreachable the job is still
    # accepted and kept `queued`; the sweeper dispatches it once the broker answers.
    async with stack_factory(
        broker_url=f"redis://127.0.0.1:{free_port()}/0", webhook_allowlist="127.0.0.1"
    ) as stack:
        today = account_today(clock.now(), stack.timezone)
        body = dashboard_request(stack.integration, today, days=7)
        body["metrics_webhook_url"] = "http://127.0.0.1:9/hook"
        response = await stack.client.post(
            "/metrics/get-data-async", json=body, headers=stack.headers
        )
        assert response.status_code == 200, response.text
        job = response.json()["job"]
        assert job["status"] == "queued"
        status = await stack.client.get(f"/metrics/jobs/{job['uuid']}", headers=stack.headers)
        assert status.status_code == 200
        assert status.json()["job"]["status"] == "queued"


async def test_limiter_gives_up_on_a_redis_that_stops_answering() -> None:
    """A Redis that accepts connections but never answers (a hung server, a black hole):
    the request waits at most the limiter's timeout once, then limits locally."""

    handlers: list[asyncio.Task[Any]] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        await reader.read()  # holds the connection open, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        limiter = MerchantRateLimiter(f"redis://127.0.0.1:{port}/0")
        key = str(uuid.uuid4())
        started = time.monotonic()
        # Bounded here too, so that a limiter without a timeout fails rather than hangs.
        first = await asyncio.wait_for(limiter.hit(key, per_second=100, per_minute=1000), 10)
        waited = time.monotonic() - started
        assert first.allowed
        assert waited < ratelimit.REDIS_TIMEOUT_SECONDS * 3
        started = time.monotonic()
        second = await limiter.hit(key, per_second=100, per_minute=1000)
        assert second.allowed and second.remaining == first.remaining - 1
        # Within REDIS_RETRY_SECONDS Redis is not asked again: no second wait.
        assert time.monotonic() - started < 0.5
    finally:
        for handler in handlers:
            handler.cancel()
        server.close()
        await asyncio.gather(*handlers, return_exceptions=True)
