"""Who is signed in to the playground: signed cookies and one-time sign-in links.

Nothing is stored server-side. A session cookie is `merchant uuid . expiry . nonce .
MAC`, the MAC (HMAC-SHA256 under a key derived from the credentials key) covering the
merchant's current token hash too: a new merchant token ends every session. A sign-in
link carries a ticket of the same form under another key; it is spent on first use
(remembered by this process until it expires) and never contains the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect import clock
from metrics_connect.accounts.credentials import resolve_key
from metrics_connect.accounts.models import Merchant
from metrics_connect.accounts.tokens import hash_token, token_matches
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

SESSION_COOKIE = "mc_playground"
# A random value bound to the sign-in forms (their CSRF token), before any session.
SIGN_IN_COOKIE = "mc_playground_signin"
COOKIE_PATH = "/playground"
SESSION_SECONDS = 8 * 3600
SIGN_IN_LINK_SECONDS = 24 * 3600
SIGN_IN_LINK_PATH = "/playground/sign-in/link"

_SESSION_LABEL = b"metrics-connect/playground-session\0"
_TICKET_LABEL = b"metrics-connect/playground-sign-in-link\0"
_SPENT_TICKETS = "playground_spent_tickets"


@dataclass(frozen=True)
class Signed:
    """A verified cookie or ticket: whose it is, and its nonce (the CSRF binding)."""

    merchant: Merchant
    nonce: str
    expires: int


def _key(settings: Settings, label: bytes) -> bytes:
    return hashlib.sha256(label + resolve_key(settings).encode()).digest()


def _mac(settings: Settings, label: bytes, payload: str, token_hash: str) -> str:
    message = f"{payload}|{token_hash}".encode()
    return hmac.new(_key(settings, label), message, hashlib.sha256).hexdigest()


def _issue(
    settings: Settings, label: bytes, merchant_uuid: str, token_hash: str, seconds: int
) -> str:
    expires = int((clock.now() + timedelta(seconds=seconds)).timestamp())
    payload = f"{merchant_uuid}.{expires}.{secrets.token_urlsafe(18)}"
    return f"{payload}.{_mac(settings, label, payload, token_hash)}"


async def _verify(
    db: AsyncSession, settings: Settings, label: bytes, value: str | None
) -> Signed | None:
    parts = (value or "").split(".")
    if len(parts) != 4 or len(value or "") > 256 or not parts[1].isdigit():
        return None
    merchant_uuid, expires, nonce, mac = parts
    if int(expires) <= clock.now().timestamp():
        return None
    merchant = await db.scalar(select(Merchant).where(Merchant.uuid == merchant_uuid))
    if merchant is None:
        return None
    expected = _mac(settings, label, f"{merchant_uuid}.{expires}.{nonce}", merchant.token_hash)
    if not hmac.compare_digest(expected, mac):
        return None
    return Signed(merchant, nonce, int(expires))


def issue_session(settings: Settings, merchant: Merchant) -> str:
    return _issue(settings, _SESSION_LABEL, merchant.uuid, merchant.token_hash, SESSION_SECONDS)


async def read_session(db: AsyncSession, settings: Settings, cookie: str | None) -> Signed | None:
    return await _verify(db, settings, _SESSION_LABEL, cookie)


async def merchant_by_token(db: AsyncSession, token: str) -> Merchant | None:
    token = token.strip()
    if not token:
        return None
    merchant = await db.scalar(select(Merchant).where(Merchant.token_hash == hash_token(token)))
    return merchant if merchant is not None and token_matches(token, merchant.token_hash) else None


def sign_in_link(
    settings: Settings,
    merchant_uuid: str,
    token_hash: str,
    seconds: int = SIGN_IN_LINK_SECONDS,
) -> str:
    """A one-time link that signs the merchant in (for the demo's banner): its ticket
    is signed with the merchant's token hash, never the token itself."""
    ticket = _issue(settings, _TICKET_LABEL, merchant_uuid, token_hash, seconds)
    return f"{settings.public_base_url.rstrip('/')}{SIGN_IN_LINK_PATH}?ticket={ticket}"


def demo_sign_in_link(settings: Settings, merchant_uuid: str, merchant_token: str) -> str:
    """The demo banner's link for its merchant, whose token it knows (and only hashes)."""
    return sign_in_link(settings, merchant_uuid, hash_token(merchant_token))


async def peek_ticket(db: AsyncSession, settings: Settings, ticket: str | None) -> Signed | None:
    """The ticket's merchant, if it is valid and not spent (the ticket stays unspent)."""
    return await _verify(db, settings, _TICKET_LABEL, ticket)


def ticket_spent(runtime: Runtime, signed: Signed) -> bool:
    return signed.nonce in _spent(runtime)


def spend_ticket(runtime: Runtime, signed: Signed) -> bool:
    """Marks the ticket used; False when it already was (a link signs in once)."""
    spent = _spent(runtime)
    now = clock.now().timestamp()
    for nonce, until in list(spent.items()):
        if until <= now:
            del spent[nonce]
    if signed.nonce in spent:
        return False
    spent[signed.nonce] = signed.expires
    return True


def _spent(runtime: Runtime) -> dict[str, float]:
    spent = runtime.services.setdefault(_SPENT_TICKETS, {})
    assert isinstance(spent, dict)
    return spent


def new_sign_in_binding() -> str:
    return secrets.token_urlsafe(24)
