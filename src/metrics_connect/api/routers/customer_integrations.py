"""The customer's integrations and connect sessions (API.md, customers-integrations)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, HttpUrl
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.accounts.service import (
    api_timestamp,
    create_session,
    customer_integration,
    live_session,
)
from metrics_connect.api.deps import BillableCustomerDep, MerchantDep, RuntimeDep, SessionDep
from metrics_connect.api.errors import ApiError
from metrics_connect.api.json_body import JsonBodyRoute
from metrics_connect.api.pagination import PageDep, paginate
from metrics_connect.catalog.networks import network_name

router = APIRouter(tags=["customer-integrations"], route_class=JsonBodyRoute)


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    redirect_url: HttpUrl | None = None


def integration_body(integration: CustomerIntegration) -> dict[str, Any]:
    return {
        "uuid": integration.uuid,
        "source_name": integration.source_name,
        "status": integration.status,
        "created_at": api_timestamp(integration.created_at),
        "updated_at": api_timestamp(integration.updated_at),
        "integration": {"name": network_name(integration.slug), "slug": integration.slug},
    }


@router.post("/customer-integrations/session")
async def new_session(
    merchant: MerchantDep,
    customer: BillableCustomerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    body: SessionIn | None = None,
) -> dict[str, Any]:
    redirect = str(body.redirect_url) if body and body.redirect_url else merchant.redirect_url
    record = await create_session(session, runtime.settings, customer, redirect)
    await session.commit()
    base = runtime.settings.public_base_url.rstrip("/")
    return {
        "integration_session": {
            "session_uuid": record.uuid,
            "session_link": f"{base}/customer-integrations/session/{record.uuid}",
            "expires_at": record.expires_at.isoformat().replace("+00:00", "Z"),
            "merchant": merchant.name,
            "merchant_uuid": merchant.uuid,
            "customer": customer.name,
            "customer_uuid": customer.uuid,
            "redirect_url": redirect,
        }
    }


@router.get("/customer-integrations")
async def list_integrations(
    customer: BillableCustomerDep, session: SessionDep, page: PageDep
) -> dict[str, Any]:
    stmt = (
        select(CustomerIntegration)
        .where(CustomerIntegration.customer_id == customer.id)
        .order_by(CustomerIntegration.id)
    )
    rows, meta = await paginate(session, stmt, page)
    return {"data": [integration_body(i) for i in rows], "meta": meta}


@router.get("/customer-integrations/{uuid}")
async def show_integration(
    uuid: str, customer: BillableCustomerDep, session: SessionDep
) -> dict[str, Any]:
    integration = await customer_integration(session, customer, uuid)
    if integration is None:
        raise ApiError(404, "Customer integration not found")
    return {"customer_integration": integration_body(integration)}


@router.delete("/customer-integrations/{uuid}")
async def delete_integration(
    uuid: str,
    customer: BillableCustomerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    session_id: str | None = Query(default=None, max_length=64),
) -> dict[str, Any]:
    if not session_id or await live_session(session, customer, session_id) is None:
        raise ApiError(
            422,
            "session_id: A live integration session of this customer is required.",
            {
                "errors": {
                    "session_id": ["A live integration session of this customer is required."]
                }
            },
        )
    integration = await customer_integration(session, customer, uuid)
    if integration is None:
        raise ApiError(404, "Customer integration not found")
    await session.delete(integration)
    await session.commit()
    await runtime.auth_cache.forget_integration(integration.id)
    return {"success": True, "message": "Record successfully removed"}
