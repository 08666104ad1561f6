"""Operations on merchants, customers, integrations and connect sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect import clock
from metrics_connect.accounts.credentials import Vault
from metrics_connect.accounts.models import (
    Customer,
    CustomerIntegration,
    IntegrationSession,
    Merchant,
)
from metrics_connect.accounts.principals import CustomerLike, MerchantLike
from metrics_connect.accounts.tokens import hash_token, new_token, new_webhook_secret
from metrics_connect.settings import Settings


def api_timestamp(value: datetime | None) -> str | None:
    """The reference's wire format: "YYYY-MM-DD HH:MM:SS" in UTC."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


@dataclass(frozen=True)
class Created:
    """A freshly created record and its token, which is never available again."""

    record: Any
    token: str


async def create_merchant(
    session: AsyncSession,
    vault: Vault,
    settings: Settings,
    name: str,
    *,
    token: str | None = None,
    rate_limit_per_second: int | None = None,
    rate_limit_per_minute: int | None = None,
) -> Created:
    token = token or new_token()
    merchant = Merchant(
        name=name,
        token_hash=hash_token(token),
        rate_limit_per_second=rate_limit_per_second or settings.default_rate_limit_per_second,
        rate_limit_per_minute=rate_limit_per_minute or settings.default_rate_limit_per_minute,
        webhook_secret_encrypted=vault.encrypt_text(new_webhook_secret()),
    )
    session.add(merchant)
    await session.flush()
    return Created(merchant, token)


def merchant_webhook_secret(vault: Vault, merchant: Merchant) -> str:
    return vault.decrypt_text(merchant.webhook_secret_encrypted)


def rotate_webhook_secret(vault: Vault, merchant: Merchant) -> str:
    secret = new_webhook_secret()
    merchant.webhook_secret_encrypted = vault.encrypt_text(secret)
    return secret


async def count_customers(session: AsyncSession, merchant: MerchantLike) -> int:
    total = await session.scalar(
        select(func.count()).select_from(Customer).where(Customer.merchant_id == merchant.id)
    )
    return int(total or 0)


async def create_customer(
    session: AsyncSession,
    settings: Settings,
    merchant: MerchantLike,
    name: str,
    *,
    token: str | None = None,
    is_paying: bool = False,
) -> Created:
    token = token or new_token()
    now = clock.now()
    customer = Customer(
        merchant_id=merchant.id,
        name=name,
        token_hash=hash_token(token),
        is_paying=is_paying,
        trial_ends_at=now + timedelta(days=settings.trial_days),
        created_at=now,
        updated_at=now,
    )
    session.add(customer)
    await session.flush()
    return Created(customer, token)


async def merchant_customer(
    session: AsyncSession, merchant: MerchantLike, customer_uuid: str
) -> Customer | None:
    customer: Customer | None = await session.scalar(
        select(Customer).where(Customer.uuid == customer_uuid, Customer.merchant_id == merchant.id)
    )
    return customer


async def customer_integration(
    session: AsyncSession, customer: CustomerLike, integration_uuid: str
) -> CustomerIntegration | None:
    integration: CustomerIntegration | None = await session.scalar(
        select(CustomerIntegration).where(
            CustomerIntegration.uuid == integration_uuid,
            CustomerIntegration.customer_id == customer.id,
        )
    )
    return integration


async def create_integration(
    session: AsyncSession,
    vault: Vault,
    customer: Customer,
    *,
    slug: str,
    source_name: str,
    external_id: str,
    credentials: dict[str, Any],
    timezone: str = "UTC",
    uuid: str | None = None,
) -> CustomerIntegration:
    integration = CustomerIntegration(
        customer_id=customer.id,
        slug=slug,
        source_name=source_name,
        external_id=external_id,
        timezone=timezone,
        status="active",
        credentials_encrypted=vault.encrypt_json(credentials),
    )
    if uuid:
        integration.uuid = uuid
    session.add(integration)
    await session.flush()
    return integration


async def create_session(
    session: AsyncSession, settings: Settings, customer: CustomerLike, redirect_url: str | None
) -> IntegrationSession:
    record = IntegrationSession(
        customer_id=customer.id,
        redirect_url=redirect_url,
        expires_at=clock.now() + timedelta(seconds=settings.session_ttl_seconds),
    )
    session.add(record)
    await session.flush()
    return record


async def live_session(
    session: AsyncSession, customer: CustomerLike, session_uuid: str
) -> IntegrationSession | None:
    record: IntegrationSession | None = await session.scalar(
        select(IntegrationSession).where(
            IntegrationSession.uuid == session_uuid,
            IntegrationSession.customer_id == customer.id,
        )
    )
    if record is None or record.expires_at <= clock.now():
        return None
    return record
