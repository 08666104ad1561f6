"""TikTok account-holder login (Login Kit's consent page, the API for Business token
endpoint): the code exchange and the refresh are JSON bodies {client_id, client_secret,
grant_type, auth_code | refresh_token}, answered in TikTok's {code, message, data}
envelope (HTTP 200 even when refused). Access tokens live 24 hours, refresh tokens a
year; `open_id` is the account's business_id."""

from __future__ import annotations

from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client

from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.connect.providers import Provider

PROVIDER = "tiktok_login"
TOKEN_PATH, REFRESH_PATH = "tt_user/oauth2/token/", "tt_user/oauth2/refresh_token/"
KEPT = ("access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "open_id")


def _tokens(body: Any) -> dict[str, Any] | None:
    if not isinstance(body, dict) or body.get("code") != 0:
        return None
    data = body.get("data") or {}
    out = {k: data[k] for k in KEPT if data.get(k) is not None}
    out["token_type"] = "Access-Token"
    if data.get("scope"):
        out["scope"] = str(data["scope"])
    return out if out.get("access_token") else None


async def exchange(
    client: AsyncOAuth2Client, provider: Provider, code: str, code_verifier: str | None
) -> dict[str, Any]:
    # No token yet: authlib's client must not try to attach one.
    response = await client.request(
        "POST",
        provider.token_url,
        withhold_token=True,
        json={
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "grant_type": "authorization_code",
            "auth_code": code,
            "redirect_uri": client.redirect_uri,
        },
    )
    body = response.json()
    tokens = _tokens(body)
    if tokens is None:
        code_text = body.get("code") if isinstance(body, dict) else response.status_code
        raise ConnectFailed(f"TikTok refused the code (code {code_text})")
    return tokens


async def refresh(
    http: httpx.AsyncClient, settings: Any, refresh_token: str
) -> dict[str, Any] | None:
    """A new access token (and refresh token) for the stored refresh token; None when refused."""
    token_url = str(getattr(settings, f"{PROVIDER}_token_url", "") or "")
    url = (
        token_url.replace(TOKEN_PATH, REFRESH_PATH) if token_url.endswith(TOKEN_PATH) else token_url
    )
    try:
        response = await http.post(
            url,
            json={
                "client_id": getattr(settings, f"{PROVIDER}_client_id", None),
                "client_secret": getattr(settings, f"{PROVIDER}_client_secret", None),
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )
        return _tokens(response.json())
    except (httpx.HTTPError, ValueError):
        return None
