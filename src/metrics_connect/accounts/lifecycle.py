"""An integration's life after it is connected: is it usable for a request, the network
said its token is dead or a permission was withdrawn, a connector renewed its token.

The engine, the sync and the jobs all go through here, so a status flip and the auth
cache agree wherever the news came from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from metrics_connect import clock
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.runtime import Runtime

UNUSABLE_STATUSES = ("expired", "revoked")


class IntegrationNotFound(LookupError):
    """Not an integration of this customer (answered 404)."""


class IntegrationInactive(Exception):
    """The integration exists but cannot be read (answered 409 with its status)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def usable(integration: CustomerIntegration | None) -> CustomerIntegration:
    if integration is None:
        raise IntegrationNotFound()
    if integration.status != "active":
        raise IntegrationInactive(integration.status)
    return integration


async def mark_unusable(
    runtime: Runtime, integration: CustomerIntegration, status: str, reason: str
) -> None:
    """The network refused the integration's token (expired) or a permission (revoked):
    it stays so until the customer reconnects it. Only an active one flips, so a late
    answer cannot undo a reconnect."""
    assert status in UNUSABLE_STATUSES
    async with runtime.db.session() as session:
        await session.execute(
            update(CustomerIntegration)
            .where(CustomerIntegration.id == integration.id, CustomerIntegration.status == "active")
            .values(status=status, status_reason=reason[:1000], updated_at=clock.now())
        )
        await session.commit()
    integration.status = status
    await runtime.auth_cache.forget_integration(integration.id)


async def save_credentials(
    runtime: Runtime, integration: CustomerIntegration, credentials: dict[str, Any]
) -> None:
    """A connector renewed its access token: kept, so that the next request (in any
    process) starts with it instead of failing once and renewing again."""
    encrypted = runtime.vault.encrypt_json(credentials)
    async with runtime.db.session() as session:
        await session.execute(
            update(CustomerIntegration)
            .where(CustomerIntegration.id == integration.id)
            .values(credentials_encrypted=encrypted, updated_at=clock.now())
        )
        await session.commit()
    integration.credentials_encrypted = encrypted
    await runtime.auth_cache.forget_integration(integration.id)
