"""The Pinterest account of a fresh token (GET /v5/user_account), for the connect page:
organic analytics are a business account's, so a personal one is not offered."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, get_json


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    body = await get_json(http, f"{api_base_url.rstrip('/')}/v5/user_account", token, {})
    if not isinstance(body, dict) or body.get("account_type") != "BUSINESS" or not body.get("id"):
        return []
    username = str(body.get("username") or "")
    return [
        Candidate(
            external_id=str(body["id"]),
            name=str(body.get("business_name") or username or body["id"]),
            detail=f"@{username} · {body.get('follower_count', 0)} followers",
            timezone="UTC",  # Pinterest's analytics days are UTC days
        )
    ]
