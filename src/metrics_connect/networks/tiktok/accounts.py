"""The TikTok account a login authorized: the token answer's `open_id` is its
business_id; business/get gives its username, display name and followers."""

from __future__ import annotations

from typing import Any

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed


async def list_accounts(
    http: httpx.AsyncClient, api_base: str, version: str, token: str, tokens: dict[str, Any]
) -> list[Candidate]:
    open_id = str(tokens.get("open_id") or "")
    if not open_id:
        return []
    try:
        response = await http.get(
            f"{api_base.rstrip('/')}/open_api/v1.3/business/get/",
            params={
                "business_id": open_id,
                "fields": '["username","display_name","followers_count"]',
            },
            headers={"Access-Token": token},
        )
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ConnectFailed(f"account listing failed ({type(exc).__name__})") from None
    if not isinstance(body, dict) or body.get("code") != 0:
        code = body.get("code") if isinstance(body, dict) else response.status_code
        raise ConnectFailed(f"account listing answered code {code}")
    data = body.get("data") or {}
    followers = data.get("followers_count")
    detail = f"@{data.get('username', '')}"
    if followers is not None:
        detail += f" · {followers} followers"
    name = str(data.get("display_name") or data.get("username") or open_id)
    return [Candidate(external_id=open_id, name=name, detail=detail, timezone="UTC")]
