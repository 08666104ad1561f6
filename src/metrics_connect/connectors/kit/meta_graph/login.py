"""Facebook Login's code exchange: the login's short-lived token (about an hour) is
swapped at once for a long-lived one (about 60 days), as Meta's "Long-Lived Access
Tokens" documents (grant_type=fb_exchange_token, same token endpoint, a form POST)."""

from __future__ import annotations

from typing import Any

from authlib.integrations.httpx_client import AsyncOAuth2Client

from metrics_connect.connect.oauth import standard_exchange
from metrics_connect.connect.providers import Provider


async def long_lived_exchange(
    client: AsyncOAuth2Client, provider: Provider, code: str, code_verifier: str | None
) -> dict[str, Any]:
    token = await standard_exchange(client, provider, code, code_verifier)
    return dict(
        await client.fetch_token(
            provider.token_url,
            grant_type="fb_exchange_token",
            fb_exchange_token=token["access_token"],
        )
    )
