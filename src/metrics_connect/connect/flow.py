"""The connect flow end to end: begin (to the provider), complete (the callback), pick.

begin:    a single-use state bound to the session (and a PKCE verifier), then the
          provider's consent page.
complete: the state is consumed atomically; the code becomes tokens; the accounts
          the tokens can see are listed and kept, with the encrypted tokens, as a
          grant bound to the same session.
pick:     the chosen account becomes an `active` integration with encrypted
          credentials, or refreshes the one it reconnects, in place.
"""

from __future__ import annotations

import inspect
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from metrics_connect import clock
from metrics_connect.accounts.models import Customer, IntegrationSession
from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.models import OAuthGrant, OAuthState
from metrics_connect.connect.oauth import (
    ConnectFailed,
    authorization_url,
    exchange_code,
    new_code_verifier,
    oauth1_access_token,
    oauth1_request_token,
)
from metrics_connect.connect.providers import Provider, callback_url, provider, provider_for_slug
from metrics_connect.connect.service import (
    Saved,
    attach_state_secret,
    binding_cookie_name,
    consume_state,
    grant_candidates,
    integration_of,
    is_live,
    new_grant,
    new_state,
    save_integration,
    use_grant,
)
from metrics_connect.connectors.kit.oauth import oauth1_auth
from metrics_connect.logging_setup import get_logger
from metrics_connect.networks.registry import network
from metrics_connect.networks.spec import FORM_GRANT
from metrics_connect.runtime import Runtime
from metrics_connect.settings import network_setting

log = get_logger("metrics_connect.connect")


def oauth_transport_key(provider_name: str) -> str:
    """Key of runtime.upstream_transports that tests use to mount an OAuth emulator."""
    return f"oauth_{provider_name}"


async def begin(
    db: AsyncSession,
    runtime: Runtime,
    record: IntegrationSession,
    slug: str,
    *,
    integration_uuid: str | None,
) -> Started:
    """The provider's authorization URL for a new, stored, single-use state."""
    found = provider_for_slug(runtime.settings, slug)
    if found is None:
        raise KeyError(slug)
    verifier = new_code_verifier() if found.use_pkce and found.protocol == "oauth2" else None
    binding = secrets.token_urlsafe(32)
    state = await new_state(
        db,
        runtime.vault,
        record,
        provider=found.name,
        slug=slug,
        integration_uuid=integration_uuid,
        code_verifier=verifier,
        browser_binding=binding,
    )
    log.info("connect_started", slug=slug, provider=found.name, reconnect=bool(integration_uuid))
    if found.protocol == "oauth1":
        # OAuth 1.0a has no `state`: it rides in the callback URL, which the provider
        # returns to with oauth_token and oauth_verifier added.
        url, temporary = await oauth1_request_token(
            found,
            callback_url(runtime.settings, found.name) + "?" + urlencode({"state": state}),
            runtime.upstream_transports.get(oauth_transport_key(found.name)),
            runtime.settings.upstream_timeout_seconds,
        )
        await attach_state_secret(db, runtime.vault, state, binding, json.dumps(temporary))
    else:
        url = authorization_url(
            found, slug, callback_url(runtime.settings, found.name), state, verifier
        )
    return Started(url, binding_cookie_name(state), binding)


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and the cookie that binds the flow to that browser."""

    authorize_url: str
    cookie_name: str
    cookie_value: str


@dataclass
class Outcome:
    refused: bool = False
    expired_session: IntegrationSession | None = None
    location: str = ""


async def complete(
    db: AsyncSession,
    runtime: Runtime,
    provider_name: str,
    state: str | None,
    code: str | None,
    error: str | None,
    browser_binding: str | None,
    oauth_token: str | None = None,
) -> Outcome:
    """The callback: `code` is the OAuth 2.0 code, or OAuth 1.0a's oauth_verifier (with
    `oauth_token`); `error` set, or no code, is a refusal."""
    row = await consume_state(db, provider_name, state or "", browser_binding or "")
    if row is None:
        log.warning("connect_state_refused", provider=provider_name)
        return Outcome(refused=True)
    record = await _session_of(db, row)
    if record is None:
        return Outcome(refused=True)
    if not is_live(record) or row.expires_at <= clock.now():
        return Outcome(expired_session=record)
    back = f"/customer-integrations/session/{record.uuid}"
    if error or not code:
        log.info("connect_declined", provider=provider_name, slug=row.slug)
        return Outcome(location=back + "?notice=denied")
    found = provider(runtime.settings, provider_name)
    kept = (
        runtime.vault.decrypt_text(row.code_verifier_encrypted)
        if row.code_verifier_encrypted
        else None
    )
    transport = runtime.upstream_transports.get(oauth_transport_key(provider_name))
    timeout = runtime.settings.upstream_timeout_seconds
    try:
        if found.protocol == "oauth1":
            tokens = await oauth1_access_token(
                found, json.loads(kept or "{}"), oauth_token or "", code[:2048], transport, timeout
            )
        else:
            tokens = await exchange_code(
                found,
                code[:2048],
                callback_url(runtime.settings, provider_name),
                kept,
                transport,
                timeout,
            )
        candidates = await visible_accounts(runtime, found, row.slug, tokens)
    except ConnectFailed as exc:
        log.warning("connect_exchange_failed", provider=provider_name, reason=exc.reason)
        return Outcome(location=back + "?notice=failed")
    grant = await new_grant(db, runtime.vault, record, row, tokens, candidates)
    await db.commit()
    log.info("connect_authorized", provider=provider_name, slug=row.slug, accounts=len(candidates))
    return Outcome(location=f"{back}/pick/{grant.uuid}")


async def _session_of(db: AsyncSession, row: OAuthState) -> IntegrationSession | None:
    record: IntegrationSession | None = await db.scalar(
        select(IntegrationSession)
        .where(IntegrationSession.id == row.session_id)
        .options(selectinload(IntegrationSession.customer).selectinload(Customer.merchant))
    )
    return record


@asynccontextmanager
async def provider_http(
    runtime: Runtime, found: Provider, tokens: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    """The provider's pooled client; for OAuth 1.0a, one that signs every request."""
    if found.protocol != "oauth1":
        yield runtime.http_client(oauth_transport_key(found.name))
        return
    async with httpx.AsyncClient(
        transport=runtime.upstream_transports.get(oauth_transport_key(found.name)),
        timeout=runtime.settings.upstream_timeout_seconds,
        follow_redirects=False,
        auth=oauth1_auth(found.client_id, found.client_secret, tokens),
    ) as signing:
        yield signing


async def visible_accounts(
    runtime: Runtime, found: Provider, slug: str, tokens: dict[str, Any]
) -> list[Candidate]:
    net = network(slug)
    if net is None or net.spec.connect.accounts is None:
        raise ConnectFailed(f"no account listing for {slug}")
    list_accounts = net.load(net.spec.connect.accounts)
    setting = net.spec.connect.accounts_base_url_setting
    base = network_setting(runtime.settings, setting).rstrip("/") if setting else found.api_base_url
    # A listing may also read the grant's token answer (TikTok names the advertisers
    # a grant covers there): it says so with a `tokens` parameter.
    extra = {"tokens": tokens} if "tokens" in inspect.signature(list_accounts).parameters else {}
    async with provider_http(runtime, found, tokens) as http:
        accounts: list[Candidate] = await list_accounts(
            http, base, runtime.settings.graph_api_version, tokens["access_token"], **extra
        )
    return accounts


class NotOffered(Exception):
    """The submitted account is not one the grant listed."""


def _credentials(tokens: dict[str, Any], candidate: Candidate) -> dict[str, Any]:
    kept = (
        "access_token",
        "token_type",
        "expires_at",
        "refresh_token",
        "scope",
        "oauth_token",
        "oauth_token_secret",
    )
    credentials = {k: tokens[k] for k in kept if tokens.get(k) is not None}
    credentials.update(candidate.extra)
    return credentials


async def pick(
    db: AsyncSession,
    runtime: Runtime,
    record: IntegrationSession,
    grant: OAuthGrant,
    external_id: str,
) -> Saved | None:
    """Save the chosen account; None when the grant was used meanwhile."""
    candidates = {c.external_id: c for c in grant_candidates(grant)}
    candidate = candidates.get(external_id)
    if candidate is None:
        raise NotOffered(external_id)
    customer = record.customer
    if grant.integration_uuid:
        target = await integration_of(db, customer, grant.integration_uuid)
        if target is not None and target.external_id != candidate.external_id:
            raise NotOffered(external_id)
    tokens = runtime.vault.decrypt_json(grant.tokens_encrypted)
    # A form's fields are the credentials as they are (API key, store URL...).
    is_form = grant.provider == FORM_GRANT
    credentials = {**tokens, **candidate.extra} if is_form else _credentials(tokens, candidate)
    timezone = candidate.timezone
    net = network(grant.slug)
    if net is not None and net.spec.connect.account_timezone and not is_form:
        found = provider(runtime.settings, grant.provider)
        account_timezone = net.load(net.spec.connect.account_timezone)
        async with provider_http(runtime, found, tokens) as http:
            timezone = await account_timezone(
                http, found.api_base_url, tokens["access_token"], candidate.external_id
            )
    if not await use_grant(db, grant):
        return None
    saved = await save_integration(
        db,
        runtime.vault,
        customer,
        slug=grant.slug,
        candidate=candidate,
        credentials=credentials,
        timezone=timezone or "UTC",
        integration_uuid=grant.integration_uuid,
    )
    await db.commit()
    await runtime.auth_cache.forget_integration(saved.integration.id)
    log.info(
        "connect_integration_saved",
        integration=saved.integration.uuid,
        slug=grant.slug,
        reconnected=saved.reconnected,
    )
    return saved
