"""The authorization-server core shared by the Facebook and Google emulators.

What both providers document for the authorization code flow: a registered client
(id, secret, redirect URIs), a consent page, single-use codes bound to the client,
the redirect URI and the PKCE challenge (RFC 7636, S256 or plain), and tokens with
the sandbox prefix (metrics_connect.sandbox.accounts). Each provider module maps its
own endpoints and error bodies onto this.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from metrics_connect.sandbox.accounts import SANDBOX_TOKEN_PREFIX, is_sandbox_token
from metrics_connect.sandbox.kit.controls import SandboxControls

CODE_TTL = timedelta(minutes=10)
PENDING_TTL = timedelta(minutes=30)

pages = Environment(
    loader=PackageLoader("metrics_connect.sandbox.oauth", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str
    # Exact redirect URIs allowed; empty: any http(s) URI (the demo's ports vary).
    redirect_uris: tuple[str, ...] = ()

    def allows(self, redirect_uri: str) -> bool:
        if self.redirect_uris:
            return redirect_uri in self.redirect_uris
        return urlsplit(redirect_uri).scheme in {"http", "https"}


@dataclass
class AuthorizationRequest:
    """A consent page being shown, kept server-side so its form carries only a ticket."""

    client_id: str
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    offline: bool
    created_at: datetime


@dataclass
class IssuedCode:
    request: AuthorizationRequest
    expires_at: datetime
    used: bool = False


@dataclass
class IssuedToken:
    kind: str  # "short", "long", "access", "refresh"
    client_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None


class CodeRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "unknown", "used", "expired", "redirect_uri", "client", "pkce"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_matches(request: AuthorizationRequest, verifier: str | None) -> bool:
    if not request.code_challenge:
        return True
    if not verifier or not 43 <= len(verifier) <= 128:
        return False
    method = (request.code_challenge_method or "plain").upper()
    expected = s256(verifier) if method == "S256" else verifier
    return hmac.compare_digest(expected, request.code_challenge)


@dataclass
class AuthorizationServer:
    controls: SandboxControls
    client: RegisteredClient
    pending: dict[str, AuthorizationRequest] = field(default_factory=dict)
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.controls.clock.now()

    def hold(self, request: AuthorizationRequest) -> str:
        ticket = secrets.token_urlsafe(16)
        self.pending[ticket] = request
        return ticket

    def release(self, ticket: str) -> AuthorizationRequest | None:
        request = self.pending.pop(ticket, None)
        if request is None or self.now() - request.created_at > PENDING_TTL:
            return None
        return request

    def issue_code(self, request: AuthorizationRequest, prefix: str) -> str:
        code = prefix + secrets.token_urlsafe(24)
        self.codes[code] = IssuedCode(request, self.now() + CODE_TTL)
        return code

    def redeem_code(
        self, code: str, client_id: str, redirect_uri: str | None, verifier: str | None
    ) -> AuthorizationRequest:
        issued = self.codes.get(code)
        if issued is None:
            raise CodeRefused("unknown")
        if issued.used:
            raise CodeRefused("used")
        if self.now() >= issued.expires_at:
            raise CodeRefused("expired")
        if client_id != issued.request.client_id:
            raise CodeRefused("client")
        if redirect_uri != issued.request.redirect_uri:
            raise CodeRefused("redirect_uri")
        if not pkce_matches(issued.request, verifier):
            raise CodeRefused("pkce")
        issued.used = True
        return issued.request

    def issue_token(
        self, kind: str, client_id: str, scopes: tuple[str, ...], lifetime: timedelta | None
    ) -> tuple[str, int | None]:
        token = f"{SANDBOX_TOKEN_PREFIX}{kind}-{secrets.token_urlsafe(24)}"
        expires_at = self.now() + lifetime if lifetime else None
        self.tokens[token] = IssuedToken(kind, client_id, scopes, expires_at)
        return token, int(lifetime.total_seconds()) if lifetime else None

    def token_problem(self, token: str | None) -> str | None:
        """None when the token is usable; else "missing", "invalid", "expired" or "revoked"."""
        if not token:
            return "missing"
        if not is_sandbox_token(token):
            return "invalid"
        if token in self.controls.switches.revoked_tokens:
            return "revoked"
        if token in self.controls.switches.expired_tokens:
            return "expired"
        issued = self.tokens.get(token)
        if issued is not None and issued.expires_at and self.now() >= issued.expires_at:
            return "expired"
        return None

    def client_secret_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        return client_id == self.client.client_id and hmac.compare_digest(
            client_secret or "", self.client.client_secret
        )


def with_query(url: str, params: dict[str, str | None]) -> str:
    kept = {k: v for k, v in params.items() if v is not None}
    return url + ("&" if urlsplit(url).query else "?") + urlencode(kept)


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    # The Graph API takes "OAuth <token>" as well as "Bearer <token>".
    if scheme.lower() in {"bearer", "oauth"} and value.strip():
        return value.strip()
    return None
