"""Idempotent demo data: merchant "Demo Agency", a paying customer, one integration per sandbox.

The demo's tokens are derived from the credentials key (HMAC), so a second start can
print the same tokens again without ever storing them in plain text.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from metrics_connect.accounts import service
from metrics_connect.accounts.models import Customer, CustomerIntegration, Merchant
from metrics_connect.accounts.tokens import hash_token
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import DemoAccount

DEMO_MERCHANT = "Demo Agency"
DEMO_CUSTOMER = "Demo Customer"
# The demo integrations count as connected since then, so the archive replay covers the
# seed request of API.md (2024-01-01 .. 2024-09-01).
DEMO_CONNECTED_AT = datetime(2023, 12, 1, tzinfo=UTC)


def derived_token(key: str, label: str) -> str:
    return hmac.new(
        key.encode(), f"metrics-connect demo {label}".encode(), hashlib.sha256
    ).hexdigest()


@dataclass
class DemoTenant:
    merchant_token: str
    customer_token: str
    merchant_uuid: str = ""
    customer_uuid: str = ""
    webhook_secret: str = ""
    integrations: dict[str, str] = field(default_factory=dict)


async def seed_demo(runtime: Runtime, key: str, accounts: dict[str, DemoAccount]) -> DemoTenant:
    tenant = DemoTenant(derived_token(key, "merchant"), derived_token(key, "customer"))
    async with runtime.db.session() as session:
        merchant = await session.scalar(
            select(Merchant).where(Merchant.token_hash == hash_token(tenant.merchant_token))
        )
        if merchant is None:
            created = await service.create_merchant(
                session,
                runtime.vault,
                runtime.settings,
                DEMO_MERCHANT,
                token=tenant.merchant_token,
            )
            merchant = created.record
        customer = await session.scalar(
            select(Customer).where(Customer.token_hash == hash_token(tenant.customer_token))
        )
        if customer is None:
            created = await service.create_customer(
                session,
                runtime.settings,
                merchant,
                DEMO_CUSTOMER,
                token=tenant.customer_token,
                is_paying=True,
            )
            customer = created.record
        for slug, account in accounts.items():
            integration = await session.scalar(
                select(CustomerIntegration).where(
                    CustomerIntegration.customer_id == customer.id,
                    CustomerIntegration.slug == slug,
                )
            )
            if integration is None:
                integration = await service.create_integration(
                    session,
                    runtime.vault,
                    customer,
                    slug=slug,
                    source_name=account.source_name,
                    external_id=account.external_id,
                    credentials=account.credentials,
                    timezone=account.timezone,
                )
                integration.connected_at = DEMO_CONNECTED_AT
            else:
                # The sandbox always accepts the demo's credentials: a restart heals
                # an integration that a fault switch had expired.
                integration.status = "active"
                integration.credentials_encrypted = runtime.vault.encrypt_json(account.credentials)
            tenant.integrations[slug] = integration.uuid
        await session.commit()
        tenant.merchant_uuid = merchant.uuid
        tenant.customer_uuid = customer.uuid
        tenant.webhook_secret = service.merchant_webhook_secret(runtime.vault, merchant)
    return tenant
