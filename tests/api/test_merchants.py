from __future__ import annotations

import httpx

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
