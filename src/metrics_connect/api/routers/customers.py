"""Customers of the current merchant (API.md, section customers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from sqlalchemy import select

from metrics_connect.accounts.models import Customer, CustomerIntegration
from metrics_connect.accounts.principals import CustomerPrincipal
from metrics_connect.accounts.service import api_timestamp, create_customer, merchant_customer
from metrics_connect.api.deps import CustomerDep, MerchantDep, RuntimeDep, SessionDep
from metrics_connect.api.errors import ApiError
from metrics_connect.api.json_body import JsonBodyRoute
from metrics_connect.api.pagination import PageDep, paginate
from metrics_connect.catalog.networks import network_name

router = APIRouter(tags=["customers"], route_class=JsonBodyRoute)

Name = Annotated[StrictStr, Field(min_length=1, max_length=255)]


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: Name


class PaymentStatusIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    is_paying: StrictBool


def customer_body(customer: Customer | CustomerPrincipal, merchant_name: str) -> dict[str, Any]:
    return {
        "uuid": customer.uuid,
        "name": customer.name,
        "created_at": api_timestamp(customer.created_at),
        "updated_at": api_timestamp(customer.updated_at),
        "trial_ends_at": api_timestamp(customer.trial_ends_at),
        "is_paying": customer.is_paying,
        "merchant": merchant_name,
    }


def integration_summary(integration: CustomerIntegration) -> dict[str, Any]:
    return {
        "uuid": integration.uuid,
        "integration": network_name(integration.slug),
        "name": integration.source_name,
        "slug": integration.slug,
        "status": integration.status,
    }


async def _owned(session: SessionDep, merchant: MerchantDep, uuid: str) -> Customer:
    customer = await merchant_customer(session, merchant, uuid)
    if customer is None:
        raise ApiError(404, "Customer not found")
    return customer


@router.get("/customers")
async def list_customers(
    merchant: MerchantDep, session: SessionDep, page: PageDep
) -> dict[str, Any]:
    stmt = select(Customer).where(Customer.merchant_id == merchant.id).order_by(Customer.id)
    rows, meta = await paginate(session, stmt, page)
    return {"data": [customer_body(c, merchant.name) for c in rows], "meta": meta}


@router.post("/customers", status_code=201)
async def add_customer(
    body: CustomerIn, merchant: MerchantDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    created = await create_customer(session, runtime.settings, merchant, body.name)
    await session.commit()
    await runtime.auth_cache.forget_merchant_settings(merchant.id)  # its customer count
    out = customer_body(created.record, merchant.name)
    out["api_token"] = created.token
    return {"customer": out}


@router.get("/customers/settings")
async def customer_settings(
    customer: CustomerDep, merchant: MerchantDep, session: SessionDep
) -> dict[str, Any]:
    integrations = (
        await session.scalars(
            select(CustomerIntegration)
            .where(CustomerIntegration.customer_id == customer.id)
            .order_by(CustomerIntegration.id)
        )
    ).all()
    out = customer_body(customer, merchant.name)
    out["integrations"] = [integration_summary(i) for i in integrations]
    return {"customer": out}


@router.get("/customers/{uuid}")
async def show_customer(uuid: str, merchant: MerchantDep, session: SessionDep) -> dict[str, Any]:
    return {"customer": customer_body(await _owned(session, merchant, uuid), merchant.name)}


@router.put("/customers/{uuid}")
async def update_customer(
    uuid: str, body: CustomerIn, merchant: MerchantDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    customer = await _owned(session, merchant, uuid)
    customer.name = body.name
    await session.commit()
    await runtime.auth_cache.forget_customer(customer.id)
    return {"customer": customer_body(customer, merchant.name)}


@router.delete("/customers/{uuid}")
async def delete_customer(
    uuid: str, merchant: MerchantDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    customer = await _owned(session, merchant, uuid)
    await session.delete(customer)
    await session.commit()
    await runtime.auth_cache.forget_customer(customer.id)
    await runtime.auth_cache.forget_merchant_settings(merchant.id)  # its customer count
    return {"success": True, "message": "Record successfully removed"}


@router.post("/customers/{uuid}/update-payment-status")
async def update_payment_status(
    uuid: str,
    body: PaymentStatusIn,
    merchant: MerchantDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    customer = await _owned(session, merchant, uuid)
    customer.is_paying = body.is_paying
    await session.commit()
    await runtime.auth_cache.forget_customer(customer.id)
    state = "now" if body.is_paying else "no longer"
    return {"success": True, "message": f"Customer is {state} marked as a paying customer"}
