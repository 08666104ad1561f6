from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event

from metrics_connect.runtime import Runtime
from tests.conftest import Tenant


async def test_settings_show_merchant_limits_and_integrations(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    r = await client.get("/merchants/settings", headers=tenant.merchant_headers)
    assert r.status_code == 200
    m = r.json()["merchant"]
    assert m["uuid"] == tenant.merchant_uuid
    assert m["name"] == "Agency"
    assert m["total_customers"] == 1
    assert m["rate_limit_per_second"] == "1000"
    assert m["rate_limit_per_minute"] == "100000"
    assert {"name", "slug"} <= set(m["available_integrations"][0])
    assert m["webhook_secret"].startswith("whsec_")
    assert len(m["created_at"]) == len("2024-09-24 17:07:26")


async def test_rotating_the_webhook_secret_replaces_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    before = (await client.get("/merchants/settings", headers=tenant.merchant_headers)).json()
    r = await client.post("/merchants/webhook-secret/rotate", headers=tenant.merchant_headers)
    assert r.status_code == 200
    new = r.json()["webhook_secret"]
    assert new.startswith("whsec_")
    assert new != before["merchant"]["webhook_secret"]
    after = (await client.get("/merchants/settings", headers=tenant.merchant_headers)).json()
    assert after["merchant"]["webhook_secret"] == new


async def test_settings_read_again_cost_no_database_round_trip(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    """Like every authenticated read, the settings page is served from what the
    authentication already holds; a customer added or deleted shows at once."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = runtime.db.engine.sync_engine
    first = await client.get("/merchants/settings", headers=tenant.merchant_headers)
    event.listen(engine, "before_cursor_execute", count)
    try:
        again = await client.get("/merchants/settings", headers=tenant.merchant_headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert again.json() == first.json()
    assert statements == []
    created = await client.post(
        "/customers", json={"name": "Bakery"}, headers=tenant.merchant_headers
    )
    assert created.status_code == 201
    after = await client.get("/merchants/settings", headers=tenant.merchant_headers)
    assert after.json()["merchant"]["total_customers"] == 2
    uuid = created.json()["customer"]["uuid"]
    await client.delete(f"/customers/{uuid}", headers=tenant.merchant_headers)
    after = await client.get("/merchants/settings", headers=tenant.merchant_headers)
    assert after.json()["merchant"]["total_customers"] == 1
