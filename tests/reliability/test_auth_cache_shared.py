"""Two API processes on one database and one Redis: a change made through one (a
customer deleted, marked not paying) applies on the other with its next request, not
when the other's auth cache entries expire (the TTL here is far longer than the test)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from sqlalchemy import update

from metrics_connect.accounts.models import Customer
from metrics_connect.api.app import create_app
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import Tenant, serving
from tests.reliability.conftest import count_redis_sends, create_tenant

TTL_SECONDS = 600.0


@pytest.fixture
async def two_processes(
    sqlite_url: str, settings_factory: Callable[..., Settings], live_redis_url: str
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient, httpx.AsyncClient]]:
    settings = settings_factory(
        sqlite_url, redis_url=live_redis_url, auth_cache_seconds=TTL_SECONDS
    )
    runtimes = [Runtime.from_settings(settings) for _ in range(2)]
    async with AsyncExitStack() as stack:
        first, second = [
            await stack.enter_async_context(serving(create_app(runtime=r))) for r in runtimes
        ]
        yield runtimes[0], first, second


async def _cached_on_first(runtime: Runtime, first: httpx.AsyncClient) -> Tenant:
    tenant = await create_tenant(runtime)
    for _ in range(2):  # loaded, then answered from the cache
        answer = await first.get("/customer-integrations", headers=tenant.headers)
        assert answer.status_code == 200
    return tenant


async def test_a_deleted_customers_token_stops_at_once_on_the_other_process(
    two_processes: tuple[Runtime, httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    runtime, first, second = two_processes
    tenant = await _cached_on_first(runtime, first)
    deleted = await second.delete(
        f"/customers/{tenant.customer_uuid}", headers=tenant.merchant_headers
    )
    assert deleted.status_code == 200
    after = await first.get("/customer-integrations", headers=tenant.headers)
    assert after.status_code == 401
    assert after.json()["message"] == "Invalid Customer Token"


async def test_a_customer_no_longer_paying_is_refused_at_once_on_the_other_process(
    two_processes: tuple[Runtime, httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    runtime, first, second = two_processes
    tenant = await _cached_on_first(runtime, first)
    async with runtime.db.session() as session:  # a trial long over
        await session.execute(
            update(Customer)
            .where(Customer.uuid == tenant.customer_uuid)
            .values(trial_ends_at=Customer.created_at)
        )
        await session.commit()
    changed = await second.post(
        f"/customers/{tenant.customer_uuid}/update-payment-status",
        json={"is_paying": False},
        headers=tenant.merchant_headers,
    )
    assert changed.status_code == 200
    after = await first.get("/customer-integrations", headers=tenant.headers)
    assert after.status_code == 401
    assert after.json()["message"] == "Customer trial has ended"


async def test_an_authenticated_request_stays_one_redis_round_trip(
    two_processes: tuple[Runtime, httpx.AsyncClient, httpx.AsyncClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The version rides in the rate limiter's round trip: no second one per request."""
    runtime, first, _second = two_processes
    tenant = await _cached_on_first(runtime, first)
    sends = count_redis_sends(monkeypatch)
    assert (await first.get("/customer-integrations", headers=tenant.headers)).status_code == 200
    assert len(sends) == 1
