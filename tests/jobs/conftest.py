"""Fixtures of the jobs tests: a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from metrics_connect.accounts import service
from metrics_connect.api.app import create_app
from metrics_connect.jobs.lifecycle import RESOLVER_KEY
from metrics_connect.jobs.models import Job
from metrics_connect.jobs.ssrf import Resolver
from metrics_connect.networks.instagram_business.emulator.network import (
    InstagramSandboxNetwork,
    build_sandbox,
)
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import connect_account
from tests.jobs.receiver import Receiver


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def make(**kwargs: Any) -> Receiver:
        receiver = Receiver(**kwargs).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver()


# --- The service with the Instagram emulator, for end-to-end job tests ---------------

GRAPH_URL = "http://graph.test"
# Periods within the 90 days Instagram keeps account metrics (the emulator follows real
# time); OTHER_END makes another request of the same integration.
_TODAY = datetime.now(UTC).date()
START, END = str(_TODAY - timedelta(days=40)), str(_TODAY - timedelta(days=11))
COMPARISON_START = str(_TODAY - timedelta(days=70))
COMPARISON_END = str(_TODAY - timedelta(days=41))
OTHER_END = str(_TODAY - timedelta(days=12))


WIDGETS = [
    {"id": "w-reach", "reference_key": "ig:reach", "component": "number_v1", "metrics": ["reach"]},
    {
        "id": "w-over-time",
        "reference_key": "ig:reach_over_time",
        "component": "chart_v1",
        "metrics": ["reach"],
        "dimensions": ["date"],
    },
    {
        "id": "w-gender",
        "reference_key": "ig:followers_gender",
        "component": "chart_v1",
        "metrics": ["followers"],
        "dimensions": ["gender"],
    },
    {
        "id": "w-unknown",
        "reference_key": "ig:not_a_widget",
        "component": "number_v1",
        "metrics": ["no_such_metric"],
    },
]

FAST_JOBS = {
    "webhook_allowlist": "127.0.0.1",
    "webhook_retry_schedule": "0.05,0.1",
    "webhook_timeout_seconds": 5.0,
    "job_lease_seconds": 2.0,
    "job_sweep_interval_seconds": 0.2,
    "job_requeue_after_seconds": 1.0,
    "instagram_api_base_url": GRAPH_URL,
}


@dataclass
class JobsService:
    """A started app, a client on it, and a connected Instagram integration."""

    app: FastAPI
    runtime: Runtime
    client: httpx.AsyncClient
    headers: dict[str, str]
    merchant_headers: dict[str, str]
    integration_uuid: str
    integration_id: int
    stack: contextlib.AsyncExitStack

    async def stop(self) -> None:
        await self.stack.aclose()

    def body(self, webhook_url: str | None = None, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "customer_integration": self.integration_uuid,
            "start": START,
            "end": END,
            "comparison_start": COMPARISON_START,
            "comparison_end": COMPARISON_END,
            "metrics": WIDGETS,
        }
        if webhook_url is not None:
            body["metrics_webhook_url"] = webhook_url
        body.update(extra)
        return body

    async def job(self, job_uuid: str) -> dict[str, Any]:
        response = await self.client.get(f"/metrics/jobs/{job_uuid}", headers=self.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["job"]
        return result

    async def wait_status(
        self,
        job_uuid: str,
        statuses: tuple[str, ...] = ("delivered", "failed"),
        timeout: float = 15,
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            job = await self.job(job_uuid)
            if job["status"] in statuses:
                return job
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"job still {job['status']}: {job}")
            await asyncio.sleep(0.05)

    async def job_count(self) -> int:
        async with self.runtime.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Job)) or 0)


async def seed_tenant(runtime: Runtime, network: InstagramSandboxNetwork) -> tuple[Any, ...]:
    account = await connect_account(runtime, "instagram_business", network.demo_account)
    merchant_only = {"Authorization": account.headers["Authorization"]}
    return account.headers, merchant_only, account.integration_uuid, account.integration_id


@pytest.fixture
def ig_network() -> InstagramSandboxNetwork:
    return build_sandbox()


@pytest.fixture
async def make_service(
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
    ig_network: InstagramSandboxNetwork,
) -> AsyncIterator[Callable[..., Any]]:
    """Starts the service (lifespan run) with FAST_JOBS settings plus overrides.

    Services started on one database share one seeded tenant; each can be stopped
    alone (`await svc.stop()`), and the rest stop at teardown.
    """
    seeded: dict[str, tuple[Any, ...]] = {}
    started: list[JobsService] = []

    async def make(
        database_url: str | None = None,
        resolver: Resolver | None = None,
        **overrides: Any,
    ) -> JobsService:
        url = database_url or sqlite_url
        settings = settings_factory(url, **{**FAST_JOBS, **overrides})
        runtime = Runtime.from_settings(settings)
        runtime.upstream_transports["instagram_business"] = httpx.ASGITransport(app=ig_network.app)
        if resolver is not None:
            runtime.services[RESOLVER_KEY] = resolver
        if url not in seeded:
            seeded[url] = await seed_tenant(runtime, ig_network)
        headers, merchant_headers, integration_uuid, integration_id = seeded[url]
        app = create_app(runtime=runtime)
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        )
        svc = JobsService(
            app, runtime, client, headers, merchant_headers, integration_uuid, integration_id, stack
        )
        started.append(svc)
        return svc

    yield make
    for svc in reversed(started):
        await svc.stop()


@pytest.fixture
async def jobs_service(make_service: Callable[..., Any]) -> JobsService:
    service_: JobsService = await make_service()
    return service_


@pytest.fixture
def make_tenant_on() -> Callable[..., Any]:
    """Another merchant and paying customer on a given runtime: their headers."""

    async def make(runtime: Runtime) -> dict[str, str]:
        async with runtime.db.session() as session:
            m = await service.create_merchant(session, runtime.vault, runtime.settings, "Other")
            c = await service.create_customer(
                session, runtime.settings, m.record, "Other customer", is_paying=True
            )
            await session.commit()
        return {"Authorization": f"Bearer {m.token}", "x-customer-token": c.token}

    return make
