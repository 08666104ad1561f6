"""The connect flow's state: sessions, OAuth states, grants, and saving the integration."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from metrics_connect import clock
from metrics_connect.accounts.credentials import Vault
from metrics_connect.accounts.models import Customer, CustomerIntegration, IntegrationSession
from metrics_connect.accounts.principals import CustomerLike
from metrics_connect.accounts.service import create_integration
from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.models import OAuthGrant, OAuthState
from metrics_connect.logging_setup import get_logger
from metrics_connect.networks.spec import FORM_GRANT

log = get_logger("metrics_connect.connect")

# A grant waits at most this long for its pick (and never longer than its session).
GRANT_TTL = timedelta(minutes=10)
# Expired states and grants are deleted this long after expiry (a late callback
# still finds its state and gets the expired-link page rather than "not accepted").
PURGE_AFTER = timedelta(hours=1)


def state_digest(state: str, browser_binding: str) -> str:
    """What is stored of a state: its SHA-256 together with the starting browser's secret.

    The binding travels in a cookie set on the browser that started the flow, so a
    consent completed in another browser (a victim lured to an attacker's authorize
    URL) finds no state and connects nothing.
    """
    return hashlib.sha256(f"{state}\0{browser_binding}".encode()).hexdigest()


def binding_cookie_name(state: str) -> str:
    """One cookie per flow (named after the state), so parallel tabs do not collide."""
    return "mc_connect_" + hashlib.sha256(state.encode()).hexdigest()[:16]


async def load_session(db: AsyncSession, session_uuid: str) -> IntegrationSession | None:
    if len(session_uuid) > 64:
        return None
    record: IntegrationSession | None = await db.scalar(
        select(IntegrationSession)
        .where(IntegrationSession.uuid == session_uuid)
        .options(selectinload(IntegrationSession.customer).selectinload(Customer.merchant))
    )
    return record


def is_live(record: IntegrationSession) -> bool:
    return record.expires_at > clock.now()


async def customer_integrations(
    db: AsyncSession, customer: CustomerLike
) -> list[CustomerIntegration]:
    rows = await db.scalars(
        select(CustomerIntegration)
        .where(CustomerIntegration.customer_id == customer.id)
        .order_by(CustomerIntegration.id)
    )
    return list(rows)


async def new_state(
    db: AsyncSession,
    vault: Vault,
    record: IntegrationSession,
    *,
    provider: str,
    slug: str,
    integration_uuid: str | None,
    code_verifier: str | None,
    browser_binding: str,
) -> str:
    """A random state, stored only as its digest, alive as long as the session."""
    await purge_expired(db)
    state = secrets.token_urlsafe(32)
    db.add(
        OAuthState(
            state_hash=state_digest(state, browser_binding),
            session_id=record.id,
            provider=provider,
            slug=slug,
            integration_uuid=integration_uuid,
            code_verifier_encrypted=vault.encrypt_text(code_verifier) if code_verifier else None,
            expires_at=record.expires_at,
        )
    )
    await db.flush()
    return state


async def attach_state_secret(
    db: AsyncSession, vault: Vault, state: str, browser_binding: str, secret: str
) -> None:
    """Keep, encrypted with the state, what its callback needs besides a PKCE verifier
    (OAuth 1.0a: the temporary token and its secret)."""
    await db.execute(
        update(OAuthState)
        .where(OAuthState.state_hash == state_digest(state, browser_binding))
        .values(code_verifier_encrypted=vault.encrypt_text(secret))
        .execution_options(synchronize_session=False)
    )


async def purge_expired(db: AsyncSession) -> None:
    """Forget states and grants whose time is over (their sessions are over too)."""
    cutoff = clock.now() - PURGE_AFTER
    await db.execute(delete(OAuthState).where(OAuthState.expires_at < cutoff))
    await db.execute(delete(OAuthGrant).where(OAuthGrant.expires_at < cutoff))


async def consume_state(
    db: AsyncSession, provider: str, state: str, browser_binding: str
) -> OAuthState | None:
    """The state's row if it is ours, from this browser, for this provider, and unused.

    The UPDATE ... WHERE used_at IS NULL makes the use atomic: of two concurrent
    callbacks with one state, exactly one wins. Expiry is the caller's to judge
    (against the session), so that a late return shows the expired-link page.
    """
    if not state or len(state) > 128 or not browser_binding or len(browser_binding) > 128:
        return None
    digest = state_digest(state, browser_binding)
    now = clock.now()
    result = await db.execute(
        update(OAuthState)
        .where(
            OAuthState.state_hash == digest,
            OAuthState.provider == provider,
            OAuthState.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    await db.commit()
    if getattr(result, "rowcount", 0) != 1:
        return None
    row: OAuthState | None = await db.scalar(
        select(OAuthState).where(OAuthState.state_hash == digest)
    )
    return row


async def new_grant(
    db: AsyncSession,
    vault: Vault,
    record: IntegrationSession,
    state: OAuthState,
    tokens: dict[str, Any],
    candidates: list[Candidate],
) -> OAuthGrant:
    grant = OAuthGrant(
        session_id=record.id,
        provider=state.provider,
        slug=state.slug,
        integration_uuid=state.integration_uuid,
        tokens_encrypted=vault.encrypt_json(tokens),
        accounts_json=json.dumps([c.to_json() for c in candidates]),
        expires_at=min(record.expires_at, clock.now() + GRANT_TTL),
    )
    db.add(grant)
    await db.flush()
    return grant


async def new_form_grant(
    db: AsyncSession,
    vault: Vault,
    record: IntegrationSession,
    *,
    slug: str,
    integration_uuid: str | None,
    fields: dict[str, str],
    candidates: list[Candidate],
) -> OAuthGrant:
    """A connect form's answer waiting for its pick: the fields encrypted like tokens."""
    grant = OAuthGrant(
        session_id=record.id,
        provider=FORM_GRANT,
        slug=slug,
        integration_uuid=integration_uuid,
        tokens_encrypted=vault.encrypt_json(fields),
        accounts_json=json.dumps([c.to_json() for c in candidates]),
        expires_at=min(record.expires_at, clock.now() + GRANT_TTL),
    )
    db.add(grant)
    await db.flush()
    return grant


async def open_grant(
    db: AsyncSession, record: IntegrationSession, grant_uuid: str
) -> OAuthGrant | None:
    """The session's unused, unexpired grant of that id (another session's: None)."""
    if len(grant_uuid) > 64:
        return None
    grant: OAuthGrant | None = await db.scalar(
        select(OAuthGrant).where(
            OAuthGrant.uuid == grant_uuid,
            OAuthGrant.session_id == record.id,
            OAuthGrant.used_at.is_(None),
            OAuthGrant.expires_at > clock.now(),
        )
    )
    return grant


async def use_grant(db: AsyncSession, grant: OAuthGrant) -> bool:
    result = await db.execute(
        update(OAuthGrant)
        .where(OAuthGrant.id == grant.id, OAuthGrant.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def grant_candidates(grant: OAuthGrant) -> list[Candidate]:
    return [Candidate.from_json(c) for c in json.loads(grant.accounts_json)]


async def integration_of(
    db: AsyncSession, customer: Customer, integration_uuid: str
) -> CustomerIntegration | None:
    row: CustomerIntegration | None = await db.scalar(
        select(CustomerIntegration).where(
            CustomerIntegration.uuid == integration_uuid,
            CustomerIntegration.customer_id == customer.id,
        )
    )
    return row


@dataclass(frozen=True)
class Saved:
    integration: CustomerIntegration
    reconnected: bool


async def save_integration(
    db: AsyncSession,
    vault: Vault,
    customer: Customer,
    *,
    slug: str,
    candidate: Candidate,
    credentials: dict[str, Any],
    timezone: str,
    integration_uuid: str | None,
) -> Saved:
    """Create the integration, or refresh an existing one of the same account in place.

    In place means the same row: its uuid (which merchants store) and the archive
    keyed by it survive a reconnect.
    """
    existing: CustomerIntegration | None = None
    if integration_uuid:
        existing = await integration_of(db, customer, integration_uuid)
    if existing is None:
        existing = await db.scalar(
            select(CustomerIntegration).where(
                CustomerIntegration.customer_id == customer.id,
                CustomerIntegration.slug == slug,
                CustomerIntegration.external_id == candidate.external_id,
            )
        )
    if existing is not None:
        existing.credentials_encrypted = vault.encrypt_json(credentials)
        existing.status = "active"
        existing.status_reason = None
        existing.source_name = candidate.name
        existing.timezone = timezone
        existing.connected_at = clock.now()
        existing.updated_at = clock.now()
        await db.flush()
        return Saved(existing, True)
    created = await create_integration(
        db,
        vault,
        customer,
        slug=slug,
        source_name=candidate.name,
        external_id=candidate.external_id,
        credentials=credentials,
        timezone=timezone,
    )
    return Saved(created, False)
