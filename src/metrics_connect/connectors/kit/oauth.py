"""OAuth 2 token refresh (RFC 6749 §6) with authlib, over the connector's own HTTP client
(so that tests and the demo route it like every other upstream call)."""

from __future__ import annotations

from typing import Any

import httpx
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
