"""Warm metrics requests skip the database for tokens and the integration (auth cache),
yet a change made through the API applies to the very next request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from metrics_connect.accounts.models import Customer, CustomerIntegration
from tests.engine.conftest import Connected

SEED = [
    {
        "id": "w",
        "reference_key": "ig:reach",
        "component": "number_v1",
        "metrics": ["reach"],
    }
]


async def _post(connected: Connected, headers: dict[str, str] | None = None) -> Any:
    return await connected.client.post(
        "/metrics/get-data",
        json=connected.body("2026-11-01", "2026-11-19", SEED),
        headers=headers or connected.headers,
    )


async def test_changes_made_elsewhere_wait_for_the_ttl_and_api_changes_apply_at_once(
    connected: Connected,
) -> None:
    assert (await _post(connected)).status_code == 200
    # Another process revokes the integration: this process keeps its copy a few seconds.
    async with connected.runtime.db.session() as session:
        await session.execute(
            update(CustomerIntegration)
            .where(CustomerIntegration.id == connected.integration_id)
            .values(status="revoked")
        )
        await session.commit()
    assert (await _post(connected)).status_code == 200
    connected.runtime.auth_cache.clear()  # what the TTL's end does
    refused = await _post(connected)
    assert refused.status_code == 409
    assert refused.json()["status"] == "revoked"


async def test_deleting_the_customer_through_the_api_refuses_its_token_at_once(
    connected: Connected,
) -> None:
    assert (await _post(connected)).status_code == 200
    merchant_only = {"Authorization": connected.headers["Authorization"]}
    async with connected.runtime.db.session() as session:
        row = await session.get(Customer, connected.customer_id)
        assert row is not None
        uuid = row.uuid
    deleted = await connected.client.delete(f"/customers/{uuid}", headers=merchant_only)
    assert deleted.status_code == 200
    after = await _post(connected)
    assert after.status_code == 401
    assert after.json() == {"message": "Invalid Customer Token"}


async def test_a_wrong_token_is_never_served_from_the_cache(connected: Connected) -> None:
    assert (await _post(connected)).status_code == 200
    wrong = dict(connected.headers, Authorization="Bearer not-the-token")
    assert (await _post(connected, wrong)).status_code == 401
    wrong_customer = dict(connected.headers, **{"x-customer-token": "nope"})
    assert (await _post(connected, wrong_customer)).status_code == 401


async def test_without_the_cache_every_request_reads_the_database(connected: Connected) -> None:
    connected.runtime.auth_cache = type(connected.runtime.auth_cache)(0)
    assert (await _post(connected)).status_code == 200
    async with connected.runtime.db.session() as session:
        await session.execute(
            update(Customer).where(Customer.id == connected.customer_id).values(is_paying=False)
        )
        await session.execute(
            update(Customer)
            .where(Customer.id == connected.customer_id)
            .values(trial_ends_at=Customer.created_at)
        )
        await session.commit()
    after = await _post(connected)
    assert after.status_code == 401
    assert after.json() == {"message": "Customer trial has ended"}
