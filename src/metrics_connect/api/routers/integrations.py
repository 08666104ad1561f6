"""Discovery (ours): the networks this deployment serves and their catalogs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from metrics_connect.api.deps import MerchantDep
from metrics_connect.api.errors import ApiError
from metrics_connect.api.json_body import JsonBodyRoute
from metrics_connect.catalog.describe import describe_catalog
from metrics_connect.catalog.loader import get_catalog
from metrics_connect.catalog.networks import available_integrations

router = APIRouter(tags=["integrations"], route_class=JsonBodyRoute)


@router.get("/integrations")
async def list_integrations(_merchant: MerchantDep) -> dict[str, Any]:
    return {"data": available_integrations()}


@router.get("/integrations/{slug}/catalog")
async def show_catalog(slug: str, _merchant: MerchantDep) -> dict[str, Any]:
    catalog = get_catalog(slug)
    if catalog is None:
        raise ApiError(404, "Integration not found")
    return {"catalog": describe_catalog(catalog)}
