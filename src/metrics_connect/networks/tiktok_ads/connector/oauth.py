"""TikTok for Business's code exchange: a JSON body {app_id, secret, auth_code}, the
answer in TikTok's {code, message, data} envelope (HTTP 200 even when refused)."""

from __future__ import annotations

from typing import Any

from authlib.integrations.httpx_client import AsyncOAuth2Client

from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.connect.providers import Provider


async def exchange(
    client: AsyncOAuth2Client, provider: Provider, code: str, code_verifier: str | None
) -> dict[str, Any]:
    # No token yet: authlib's client must not try to attach one.
    response = await client.request(
        "POST",
        provider.token_url,
        withhold_token=True,
        json={"app_id": provider.client_id, "secret": provider.client_secret, "auth_code": code},
    )
    body = response.json()
    if not isinstance(body, dict) or body.get("code") != 0:
        code_text = body.get("code") if isinstance(body, dict) else response.status_code
        raise ConnectFailed(f"TikTok refused the code (code {code_text})")
    data = dict(body.get("data") or {})
    return {
        "access_token": data.get("access_token"),
        "token_type": "Access-Token",
        # The advertisers this grant covers: the account listing reads them.
        "advertiser_ids": [str(i) for i in data.get("advertiser_ids") or []],
    }
