from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event

from metrics_connect.accounts import service
from metrics_connect.accounts.models import Customer
from metrics_connect.runtime import Runtime
from tests.conftest import FrozenClock, Tenant


async def add_integration(
    runtime: Runtime, tenant: Tenant, slug: str = "instagram_business"
) -> str:
    async with runtime.db.session() as session:
        from sqlalchemy import select

        customer = await session.scalar(
            select(Customer).where(Customer.uuid == tenant.customer_uuid)
        )
        assert customer is not None
        integration = await service.create_integration(
            session,
            runtime.vault,
            customer,
            slug=slug,
            source_name="acme",
            external_id="1784",
            credentials={"access_token": "secret-upstream-token"},
        )
        await session.commit()
        return integration.uuid


async def test_session_link_lives_five_minutes(
    client: httpx.AsyncClient, tenant: Tenant, frozen_clock: FrozenClock
) -> None:
    r = await client.post(
        "/customer-integrations/session",
        json={"redirect_url": "https://agency.example/done"},
        headers=tenant.headers,
    )
    assert r.status_code == 200
    s = r.json()["integration_session"]
    assert (
        s["session_link"] == f"http://testserver/customer-integrations/session/{s['session_uuid']}"
    )
    assert s["expires_at"] == "2026-01-15T12:05:00Z"
    assert s["customer_uuid"] == tenant.customer_uuid
    assert s["merchant_uuid"] == tenant.merchant_uuid
    assert s["redirect_url"] == "https://agency.example/done"


async def test_session_rejects_a_bad_redirect_url(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    r = await client.post(
        "/customer-integrations/session", json={"redirect_url": "not a url"}, headers=tenant.headers
    )
    assert r.status_code == 422
    assert "redirect_url" in r.json()["errors"]


async def test_list_and_show_integrations(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    uuid = await add_integration(runtime, tenant)
    listed = (await client.get("/customer-integrations", headers=tenant.headers)).json()
    assert listed["meta"]["total"] == 1
    shown = await client.get(f"/customer-integrations/{uuid}", headers=tenant.headers)
    assert shown.status_code == 200
    body = shown.json()["customer_integration"]
    assert body["uuid"] == uuid
    assert body["status"] == "active"
    assert body["integration"] == {"name": "Instagram Business", "slug": "instagram_business"}
    assert "secret-upstream-token" not in shown.text
    settings = (await client.get("/customers/settings", headers=tenant.headers)).json()
    assert settings["customer"]["integrations"][0]["uuid"] == uuid


async def test_delete_needs_a_live_session_of_that_customer(
    client: httpx.AsyncClient, make_tenant: Any, runtime: Runtime, frozen_clock: FrozenClock
) -> None:
    a: Tenant = await make_tenant("A")
    b: Tenant = await make_tenant("B")
    uuid = await add_integration(runtime, a)
    sa = (await client.post("/customer-integrations/session", headers=a.headers)).json()
    sb = (await client.post("/customer-integrations/session", headers=b.headers)).json()
    sid_a = sa["integration_session"]["session_uuid"]
    sid_b = sb["integration_session"]["session_uuid"]

    r = await client.delete(f"/customer-integrations/{uuid}", headers=a.headers)
    assert r.status_code == 422
    r = await client.delete(f"/customer-integrations/{uuid}?session_id={sid_b}", headers=a.headers)
    assert r.status_code == 422
    # B, with its own live session, cannot see or delete A's integration.
    r = await client.delete(f"/customer-integrations/{uuid}?session_id={sid_b}", headers=b.headers)
    assert r.status_code == 404
    assert (
        await client.get(f"/customer-integrations/{uuid}", headers=b.headers)
    ).status_code == 404

    frozen_clock.advance(minutes=6)
    r = await client.delete(f"/customer-integrations/{uuid}?session_id={sid_a}", headers=a.headers)
    assert r.status_code == 422
    fresh = (await client.post("/customer-integrations/session", headers=a.headers)).json()
    sid = fresh["integration_session"]["session_uuid"]
    r = await client.delete(f"/customer-integrations/{uuid}?session_id={sid}", headers=a.headers)
    assert r.status_code == 200
    assert r.json() == {"success": True, "message": "Record successfully removed"}
    assert (
        await client.get(f"/customer-integrations/{uuid}", headers=a.headers)
    ).status_code == 404


async def test_trial_expiry_blocks_integrations_until_paying(
    client: httpx.AsyncClient, make_tenant: Any, frozen_clock: FrozenClock
) -> None:
    t: Tenant = await make_tenant("Trial", is_paying=False)
    assert (await client.get("/customer-integrations", headers=t.headers)).status_code == 200
    frozen_clock.advance(days=7, seconds=1)
    for method, path in [
        ("GET", "/customer-integrations"),
        ("POST", "/customer-integrations/session"),
        ("GET", "/customer-integrations/00000000-0000-0000-0000-000000000000"),
    ]:
        r = await client.request(method, path, headers=t.headers)
        assert r.status_code == 401, path
        assert r.json() == {"message": "Customer trial has ended"}
    # Customer-level endpoints still answer: the merchant can see the customer.
    assert (await client.get("/customers/settings", headers=t.headers)).status_code == 200
    paid = await client.post(
        f"/customers/{t.customer_uuid}/update-payment-status",
        json={"is_paying": True},
        headers=t.merchant_headers,
    )
    assert paid.status_code == 200
    assert (await client.get("/customer-integrations", headers=t.headers)).status_code == 200


async def test_a_page_and_its_total_cost_one_round_trip(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    for _ in range(3):
        await add_integration(runtime, tenant)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = runtime.db.engine.sync_engine
    await client.get("/customer-integrations", headers=tenant.headers)  # tokens checked
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = await client.get("/customer-integrations?per_page=2", headers=tenant.headers)
        past = await client.get("/customer-integrations?page=9", headers=tenant.headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.json()["meta"]["total"] == 3 and len(page.json()["data"]) == 2
    assert page.json()["meta"]["last_page"] == 2
    assert past.json()["meta"]["total"] == 3 and past.json()["data"] == []
    # One select for the page with its total; a page past the end counts on its own.
    assert len(statements) == 1 + 2
