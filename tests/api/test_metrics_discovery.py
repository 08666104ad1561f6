"""GET /integrations and GET /integrations/{slug}/catalog."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant


async def test_integrations_lists_served_networks(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get("/integrations", headers=tenant.merchant_headers)
    assert response.status_code == 200
    slugs = {n["slug"] for n in response.json()["data"]}
    assert "instagram_business" in slugs


async def test_catalog_describes_metrics_dimensions_and_widgets(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(
        "/integrations/instagram_business/catalog", headers=tenant.merchant_headers
    )
    assert response.status_code == 200
    catalog = response.json()["catalog"]
    metrics = {m["name"]: m for m in catalog["metrics"]}
    assert metrics["reach"]["label"] == "Reach"
    assert metrics["followers"]["aggregation"] == "last"
    assert metrics["ctr"]["aggregation"] == "ratio"
    assert metrics["impressions"]["deprecated"]
    dims = {d["name"]: d for d in catalog["dimensions"]}
    assert dims["gender"]["type"] == "category" and dims["stories"]["type"] == "item"
    widgets = {w["reference_key"]: w for w in catalog["widgets"]}
    assert len(widgets) == 87
    assert widgets["ig:media_impressions"]["deprecated"]
    assert "number_v1" in catalog["components"]


async def test_unknown_catalog_is_404_and_needs_a_token(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get("/integrations/myspace/catalog", headers=tenant.merchant_headers)
    assert response.status_code == 404
    assert (await client.get("/integrations")).status_code == 401
