"""The sign-in flows with each provider, through authlib: the OAuth 2.0 authorization
code flow (RFC 6749, PKCE RFC 7636) and OAuth 1.0a's three legs (RFC 5849).

Tokens travel only in request bodies and Authorization headers, never in a URL: the
code exchange is a form POST; a provider whose exchange differs (Facebook's long-lived
swap, TikTok's JSON body) names its own `exchange` hook in its declaration.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth1Client, AsyncOAuth2Client, OAuthError
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from metrics_connect import clock
from metrics_connect.connect.providers import Provider, scopes_of


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
    redirect_uri: str | None,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method=provider.token_auth,
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
    # A consent page under the app's own path (Nuvemshop's /apps/{app_id}/authorize).
    base = provider.authorize_url.replace("{client_id}", quote(provider.client_id or "", safe=""))
    url = str(
        prepare_grant_uri(
            base,
            client_id=provider.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=provider.scope_separator.join(scopes_of(slug)),
            state=state,
            **extra,
        )
    )
    # A provider naming the client id its own way (TikTok's app_id, client_key).
    param = provider.declared.spec.client_id_param if provider.declared else "client_id"
    if param != "client_id":
        parts = urlsplit(url)
        query = [(param if k == "client_id" else k, v) for k, v in parse_qsl(parts.query)]
        url = urlunsplit(parts._replace(query=urlencode(query)))
    return url


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


async def standard_exchange(
    client: AsyncOAuth2Client, provider: Provider, code: str, code_verifier: str | None
) -> dict[str, Any]:
    """RFC 6749 §4.1.3: the code (and PKCE verifier) for tokens at the token endpoint."""
    extra: dict[str, str] = {"code_verifier": code_verifier} if code_verifier else {}
    return dict(
        await client.fetch_token(
            provider.token_url, grant_type="authorization_code", code=code, **extra
        )
    )


async def exchange_code(
    provider: Provider,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> dict[str, Any]:
    """The code for tokens, the standard way or through the provider's `exchange` hook:
    async (client, provider, code, code_verifier) -> token dict."""
    exchange = provider.hook("exchange") or standard_exchange
    async with _client(provider, redirect_uri, transport, timeout) as client:
        try:
            token = dict(await exchange(client, provider, code, code_verifier))
        except (OAuthError, httpx.HTTPError, KeyError, ValueError) as exc:
            raise ConnectFailed(_error_reason(exc)) from None
    if not token.get("access_token"):
        raise ConnectFailed("no access token in the provider's answer")
    return _with_expiry(token)


async def client_credentials_token(
    provider: Provider,
    client_id: str,
    client_secret: str,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> dict[str, Any]:
    """RFC 6749 §4.4 with the customer's own client (Hotmart): an access token, fetched
    server-side; the provider's `exchange` hook, when declared, is called with code ""."""
    own = replace(provider, client_id=client_id, client_secret=client_secret)
    exchange = provider.hook("exchange")
    async with _client(own, None, transport, timeout) as client:
        try:
            if exchange is not None:
                token = dict(await exchange(client, own, "", None))
            else:
                token = dict(
                    await client.fetch_token(own.token_url, grant_type="client_credentials")
                )
        except (OAuthError, httpx.HTTPError, KeyError, ValueError) as exc:
            raise ConnectFailed(_error_reason(exc)) from None
    if not token.get("access_token"):
        raise ConnectFailed("no access token in the provider's answer")
    return _with_expiry(token)


def _oauth1_client(
    provider: Provider,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
    **kwargs: Any,
) -> AsyncOAuth1Client:
    return AsyncOAuth1Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        **kwargs,
    )


async def oauth1_request_token(
    provider: Provider,
    callback: str,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> tuple[str, dict[str, str]]:
    """OAuth 1.0a leg 1: temporary credentials for `callback`; returns the authorize URL
    and the temporary token with its secret (kept, encrypted, with the state)."""
    if not provider.request_token_url:
        raise ConnectFailed("the provider declares no request_token_url")
    async with _oauth1_client(provider, transport, timeout, redirect_uri=callback) as client:
        try:
            token = dict(await client.fetch_request_token(provider.request_token_url))
        except (OAuthError, httpx.HTTPError, KeyError, ValueError) as exc:
            raise ConnectFailed(_error_reason(exc)) from None
        if not token.get("oauth_token") or not token.get("oauth_token_secret"):
            raise ConnectFailed("no request token in the provider's answer")
        url = client.create_authorization_url(provider.authorize_url, token["oauth_token"])
    kept = {k: str(token[k]) for k in ("oauth_token", "oauth_token_secret")}
    return str(url), kept


async def oauth1_access_token(
    provider: Provider,
    temporary: dict[str, str],
    oauth_token: str,
    verifier: str,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> dict[str, Any]:
    """OAuth 1.0a leg 3: the authorized temporary token and its verifier for the
    token credentials (oauth_token + oauth_token_secret, signed with both secrets)."""
    if oauth_token != temporary.get("oauth_token"):
        raise ConnectFailed("the callback's oauth_token is not the one requested")
    async with _oauth1_client(
        provider,
        transport,
        timeout,
        token=temporary["oauth_token"],
        token_secret=temporary["oauth_token_secret"],
    ) as client:
        try:
            token = dict(await client.fetch_access_token(provider.token_url, verifier))
        except (OAuthError, httpx.HTTPError, KeyError, ValueError) as exc:
            raise ConnectFailed(_error_reason(exc)) from None
    if not token.get("oauth_token") or not token.get("oauth_token_secret"):
        raise ConnectFailed("no access token in the provider's answer")
    # The account listing and the connectors read `access_token`; the secret signs.
    return {**{k: str(v) for k, v in token.items()}, "access_token": str(token["oauth_token"])}
