"""GET /merchants/settings and the webhook signing secret."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect.accounts.auth_cache import MerchantSettings
from metrics_connect.accounts.models import Merchant
from metrics_connect.accounts.principals import MerchantPrincipal
from metrics_connect.accounts.service import (
    api_timestamp,
    count_customers,
    merchant_webhook_secret,
    rotate_webhook_secret,
)
from metrics_connect.api.deps import MerchantDep, RuntimeDep, SessionDep
from metrics_connect.api.errors import ApiError
from metrics_connect.api.json_body import JsonBodyRoute
from metrics_connect.catalog.networks import available_integrations

router = APIRouter(tags=["merchants"], route_class=JsonBodyRoute)


def merchant_body(merchant: Merchant | MerchantPrincipal) -> dict[str, Any]:
    return {
        "uuid": merchant.uuid,
        "name": merchant.name,
        "app_url": merchant.app_url,
        "redirect_url": merchant.redirect_url,
        "created_at": api_timestamp(merchant.created_at),
        "updated_at": api_timestamp(merchant.updated_at),
        "rate_limit_per_minute": str(merchant.rate_limit_per_minute),
        "rate_limit_per_second": str(merchant.rate_limit_per_second),
    }


async def _merchant_row(session: AsyncSession, merchant: MerchantPrincipal) -> Merchant:
    """The row itself: the settings page shows the secret, which the auth copy lacks."""
    row = await session.get(Merchant, merchant.id)
    if row is None:  # deleted since the token was checked
        raise ApiError(401, "Unauthenticated.")
    return row


@router.get("/merchants/settings")
async def merchant_settings(
    merchant: MerchantDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    # The authenticated merchant carries the page's fields; the secret and the customer
    # count come from the auth cache while it holds them (as fresh as the merchant).
    cache = runtime.auth_cache.merchant_settings
    extras = cache.get(merchant.id)
    if extras is None:
        row = await _merchant_row(session, merchant)
        extras = MerchantSettings(
            merchant.id,
            merchant_webhook_secret(runtime.vault, row),
            await count_customers(session, row),
        )
        cache.put(merchant.id, extras)
    body = merchant_body(merchant)
    body["total_customers"] = extras.total_customers
    body["available_integrations"] = available_integrations()
    body["webhook_secret"] = extras.webhook_secret
    return {"merchant": body}


@router.post("/merchants/webhook-secret/rotate")
async def rotate_secret(
    merchant: MerchantDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Replaces the signing secret; deliveries from now on are signed with the new one."""
    secret = rotate_webhook_secret(runtime.vault, await _merchant_row(session, merchant))
    await session.commit()
    await runtime.auth_cache.forget_merchant_settings(merchant.id)
    return {"webhook_secret": secret}
