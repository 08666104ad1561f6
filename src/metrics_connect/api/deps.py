"""Authentication, tenancy and rate-limit dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect import clock
from metrics_connect.accounts.models import Customer, Merchant
from metrics_connect.accounts.principals import CustomerPrincipal, MerchantPrincipal
from metrics_connect.accounts.tokens import hash_token, token_matches
from metrics_connect.api.errors import ApiError
from metrics_connect.engine.request import max_range_days_var
from metrics_connect.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain `def` dependency in a worker thread, per request.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _credential_header(request: Request, name: str, shown: str) -> str | None:
    """The header's one value; sent twice it is refused rather than one copy trusted.

    Proxies and frameworks disagree on which copy wins, so a second copy could make
    a check in front of us and this service see different credentials.
    """
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise ApiError(
            400,
            f"The {shown} header was sent more than once.",
            {"errors": {shown: ["Send this header once."]}},
        )
    return values[0] if values else None


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def _merchant_by_token(runtime: Runtime, token: str) -> MerchantPrincipal | None:
    digest = hash_token(token)

    async def load() -> MerchantPrincipal | None:
        async with runtime.db.session() as session:
            row = await session.scalar(select(Merchant).where(Merchant.token_hash == digest))
        return None if row is None else MerchantPrincipal.of(row)

    found = await runtime.auth_cache.merchants.get_or_load(digest, load)
    return found if found is not None and token_matches(token, found.token_hash) else None


async def _customer_by_token(
    runtime: Runtime, merchant: MerchantPrincipal, token: str
) -> CustomerPrincipal | None:
    digest = hash_token(token)

    async def load() -> CustomerPrincipal | None:
        async with runtime.db.session() as session:
            row = await session.scalar(
                select(Customer).where(
                    Customer.token_hash == digest, Customer.merchant_id == merchant.id
                )
            )
        return None if row is None else CustomerPrincipal.of(row)

    found = await runtime.auth_cache.customers.get_or_load((merchant.id, digest), load)
    return found if found is not None and token_matches(token, found.token_hash) else None


async def current_merchant(request: Request) -> MerchantPrincipal:
    # Headers and the runtime read here rather than as FastAPI parameters: each
    # parameter and sub-dependency is per-request work on the hottest path.
    runtime: Runtime = request.app.state.runtime
    token = _bearer(_credential_header(request, "authorization", "Authorization"))
    merchant = await _merchant_by_token(runtime, token) if token else None
    if merchant is None:
        raise ApiError(401, "Unauthenticated.")
    request.scope["state"]["merchant_uuid"] = merchant.uuid
    decision = await runtime.rate_limiter.hit(
        merchant.uuid, merchant.rate_limit_per_second, merchant.rate_limit_per_minute
    )
    if runtime.auth_cache.observe(decision.shared_version):
        # Another process changed accounts since the cache was filled (the same round
        # trip told): authenticate on fresh reads, so that a revoked token stops now.
        merchant = await _merchant_by_token(runtime, token) if token else None
        if merchant is None:
            raise ApiError(401, "Unauthenticated.")
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


MerchantDep = Annotated[MerchantPrincipal, Depends(current_merchant)]


async def current_customer(request: Request, merchant: MerchantDep) -> CustomerPrincipal:
    token = _credential_header(request, "x-customer-token", "x-customer-token")
    runtime: Runtime = request.app.state.runtime
    customer = await _customer_by_token(runtime, merchant, token) if token else None
    if customer is None:
        raise ApiError(401, "Invalid Customer Token")
    return customer


CustomerDep = Annotated[CustomerPrincipal, Depends(current_customer)]


def customer_in_good_standing(customer: CustomerPrincipal) -> bool:
    return customer.is_paying or clock.now() < customer.trial_ends_at


async def billable_customer(customer: CustomerDep) -> CustomerPrincipal:
    """Customer-integration and metrics endpoints: trial over and not paying is 401."""
    if not customer_in_good_standing(customer):
        raise ApiError(401, "Customer trial has ended")
    return customer


BillableCustomerDep = Annotated[CustomerPrincipal, Depends(billable_customer)]


async def apply_request_limits(request: Request) -> None:
    """Router dependency: validation of the body sees this deployment's max range."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        max_range_days_var.set(int(runtime.settings.max_range_days))
