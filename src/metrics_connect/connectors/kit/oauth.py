"""OAuth for connectors, with authlib, over the connector's own HTTP client (so that tests
and the demo route it like every other upstream call): OAuth 2 token refresh (RFC 6749
§6), through a declared provider or by settings, and OAuth 1.0a request signing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth1Auth
from authlib.oauth2.rfc6749.parameters import prepare_token_request

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


async def refresh_access_token(
    http: httpx.AsyncClient,
    token_url: str,
    refresh_token: str,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> str | None:
    """A new access token for the refresh token; None when the provider refuses."""
    body = prepare_token_request(
        "refresh_token",
        refresh_token=refresh_token,
        client_id=client_id,
        client_secret=client_secret,
    )
    try:
        response = await http.post(token_url, content=body, headers=FORM)
        payload: Any = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    token = payload.get("access_token") if isinstance(payload, dict) else None
    return str(token) if token else None


def oauth1_auth(
    client_id: str | None, client_secret: str | None, credentials: Mapping[str, Any]
) -> OAuth1Auth:
    """httpx auth signing each request with OAuth 1.0a HMAC-SHA1 (RFC 5849 §3.4.2): the
    consumer key/secret and the user's oauth_token/oauth_token_secret (X Ads, say).

    `httpx.AsyncClient(auth=oauth1_auth(...))` or `http.get(url, auth=...)`."""
    return OAuth1Auth(
        client_id=client_id or "",
        client_secret=client_secret,
        token=str(credentials.get("oauth_token") or credentials.get("access_token") or ""),
        token_secret=str(credentials.get("oauth_token_secret") or ""),
        signature_method="HMAC-SHA1",
    )


async def refresh_with_provider(
    http: httpx.AsyncClient, settings: Any, provider_name: str, refresh_token: str
) -> dict[str, Any] | None:
    """A refresh through a declared OAuth provider: its `refresh` hook when it names one
    (async (http, settings, refresh_token) -> token dict | None), else RFC 6749 §6 at
    <name>_token_url with <name>_client_id/_client_secret. None when refused."""
    from metrics_connect.networks.registry import oauth_provider

    declared = oauth_provider(provider_name)
    if declared is None:
        return None
    if declared.spec.refresh:
        hook = declared.load(declared.spec.refresh)
        token: dict[str, Any] | None = await hook(http, settings, refresh_token)
        return token

    def setting(suffix: str) -> str | None:
        value = getattr(settings, f"{provider_name}_{suffix}", None)
        return str(value) if value else None

    url = setting("token_url") or declared.spec.token_url
    client_id, client_secret = setting("client_id"), setting("client_secret")
    basic = declared.spec.token_auth == "client_secret_basic"
    body = prepare_token_request(
        "refresh_token",
        refresh_token=refresh_token,
        client_id=None if basic else client_id,
        client_secret=None if basic else client_secret,
    )
    auth = httpx.BasicAuth(client_id or "", client_secret or "") if basic else None
    try:
        response = await http.post(
            url, content=body, headers=FORM, auth=auth or httpx.USE_CLIENT_DEFAULT
        )
        payload: Any = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(payload, dict) or not payload.get("access_token"):
        return None
    return payload


async def client_credentials_with_provider(
    http: httpx.AsyncClient, settings: Any, provider_name: str, credentials: Mapping[str, Any]
) -> dict[str, Any] | None:
    """A new token for a `protocol: client_credentials` provider (RFC 6749 §4.4), with
    the customer's own client kept in the credentials (client_id, client_secret). None
    when refused."""
    from metrics_connect.networks.registry import oauth_provider

    declared = oauth_provider(provider_name)
    client_id, client_secret = credentials.get("client_id"), credentials.get("client_secret")
    if declared is None or not client_id or not client_secret:
        return None
    url = getattr(settings, f"{provider_name}_token_url", None) or declared.spec.token_url
    basic = declared.spec.token_auth == "client_secret_basic"
    form: dict[str, str] = {"grant_type": "client_credentials"}
    if not basic:
        form.update(client_id=str(client_id), client_secret=str(client_secret))
    auth = httpx.BasicAuth(str(client_id), str(client_secret)) if basic else None
    try:
        response = await http.post(
            str(url),
            data=form,
            headers={"Accept": "application/json"},
            auth=auth or httpx.USE_CLIENT_DEFAULT,
        )
        payload: Any = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(payload, dict) or not payload.get("access_token"):
        return None
    return payload
