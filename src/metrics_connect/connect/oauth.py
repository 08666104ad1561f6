"""The authorization code flow with each provider, through authlib.

Tokens travel only in request bodies and Authorization headers, never in a URL:
the code exchange and Facebook's long-lived exchange are form POSTs (the Graph API
takes its parameters as a POST body as well as a query string).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from metrics_connect import clock
from metrics_connect.connect.providers import FACEBOOK, Provider, scopes_of


class ConnectFailed(Exception):
    """The provider refused or failed; `reason` is safe to show and to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_code_verifier() -> str:
    # RFC 7636: 43 to 128 characters of [A-Za-z0-9-._~]; 64 gives 380 bits.
    return generate_token(64)


def _client(
    provider: Provider,
    redirect_uri: str,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method="client_secret_post",
        redirect_uri=redirect_uri,
        code_challenge_method="S256" if provider.use_pkce else None,
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
    )


def authorization_url(
    provider: Provider, slug: str, redirect_uri: str, state: str, code_verifier: str | None
) -> str:
    """The consent page URL: RFC 6749 grant request, plus the S256 challenge (RFC 7636)."""
    extra: dict[str, str] = dict(provider.authorize_params)
    if code_verifier:
        extra["code_challenge"] = create_s256_code_challenge(code_verifier)
        extra["code_challenge_method"] = "S256"
    return str(
        prepare_grant_uri(
            provider.authorize_url,
            client_id=provider.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=provider.scope_separator.join(scopes_of(slug)),
            state=state,
            **extra,
        )
    )


def _error_reason(exc: Exception) -> str:
    if isinstance(exc, OAuthError):
        error: Any = exc.error
        if isinstance(error, dict):  # Graph API: {"error": {"message", "type", "code"}}
            return f"{error.get('type', 'OAuthException')} {error.get('code', '')}".strip()
        return str(error)
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


def _with_expiry(token: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in token.items() if k != "expires_at"}
    expires_in = token.get("expires_in")
    if isinstance(expires_in, int | float | str) and str(expires_in).isdigit():
        out["expires_at"] = (clock.now() + timedelta(seconds=int(expires_in))).isoformat()
    return out


async def exchange_code(
    provider: Provider,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> dict[str, Any]:
    """The code for tokens; on Facebook, the short-lived token for a long-lived one."""
    extra: dict[str, str] = {"code_verifier": code_verifier} if code_verifier else {}
    async with _client(provider, redirect_uri, transport, timeout) as client:
        try:
            token = dict(
                await client.fetch_token(
                    provider.token_url, grant_type="authorization_code", code=code, **extra
                )
            )
            if provider.name == FACEBOOK:
                # Login tokens live about an hour; the long-lived one about 60 days.
                token = dict(
                    await client.fetch_token(
                        provider.token_url,
                        grant_type="fb_exchange_token",
                        fb_exchange_token=token["access_token"],
                    )
                )
        except (OAuthError, httpx.HTTPError, KeyError, ValueError) as exc:
            raise ConnectFailed(_error_reason(exc)) from None
    if not token.get("access_token"):
        raise ConnectFailed("no access token in the provider's answer")
    return _with_expiry(token)
