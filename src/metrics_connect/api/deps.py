"""Authentication, tenancy and rate-limit dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect import clock
from metrics_connect.accounts.models import Customer, Merchant
from metrics_connect.accounts.tokens import hash_token, token_matches
from metrics_connect.api.errors import ApiError
from metrics_connect.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def current_merchant(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Merchant:
    token = _bearer(authorization)
    merchant = None
    if token:
        digest = hash_token(token)
        merchant = await session.scalar(select(Merchant).where(Merchant.token_hash == digest))
        if merchant is not None and not token_matches(token, merchant.token_hash):
            merchant = None
    if merchant is None:
        raise ApiError(401, "Unauthenticated.")
    request.scope["state"]["merchant_uuid"] = merchant.uuid
    decision = await runtime.rate_limiter.hit(
        merchant.uuid, merchant.rate_limit_per_second, merchant.rate_limit_per_minute
    )
    headers = {
        "X-RateLimit-Limit": decision.limit,
        "X-RateLimit-Remaining": decision.remaining,
    }
    request.scope["state"]["rate_limit_headers"] = headers
    if not decision.allowed:
        raise ApiError(
            429,
            "Too Many Attempts.",
            headers={"Retry-After": str(decision.retry_after)},
        )
    return merchant


MerchantDep = Annotated[Merchant, Depends(current_merchant)]


async def current_customer(
    merchant: MerchantDep,
    session: SessionDep,
    x_customer_token: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Customer:
    customer = None
    if x_customer_token:
        digest = hash_token(x_customer_token)
        customer = await session.scalar(
            select(Customer).where(
                Customer.token_hash == digest, Customer.merchant_id == merchant.id
            )
        )
        if customer is not None and not token_matches(x_customer_token, customer.token_hash):
            customer = None
    if customer is None:
        raise ApiError(401, "Invalid Customer Token")
    return customer


CustomerDep = Annotated[Customer, Depends(current_customer)]


def customer_in_good_standing(customer: Customer) -> bool:
    return customer.is_paying or clock.now() < customer.trial_ends_at


async def billable_customer(customer: CustomerDep) -> Customer:
    """Customer-integration and metrics endpoints: trial over and not paying is 401."""
    if not customer_in_good_standing(customer):
        raise ApiError(401, "Customer trial has ended")
    return customer


BillableCustomerDep = Annotated[Customer, Depends(billable_customer)]
