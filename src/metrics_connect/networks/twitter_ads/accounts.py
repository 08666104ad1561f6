"""The ads accounts an X login can read (GET /12/accounts, cursor paging), with each
account's time zone (its stats days)."""

from __future__ import annotations

from typing import Any

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed

API_VERSION = "12"
PAGES = 20


async def list_accounts(
    http: httpx.AsyncClient, base_url: str, version: str, token: str
) -> list[Candidate]:
    """`http` signs every request with OAuth 1.0a (the connect page's client)."""
    out: list[Candidate] = []
    params: dict[str, Any] = {"count": "1000"}
    for _ in range(PAGES):
        response = await http.get(f"{base_url.rstrip('/')}/{API_VERSION}/accounts", params=params)
        if response.status_code != 200:
            raise ConnectFailed(f"X Ads API accounts answered HTTP {response.status_code}")
        body = response.json()
        for row in body.get("data") or []:
            if row.get("deleted") or not row.get("id"):
                continue
            out.append(
                Candidate(
                    external_id=str(row["id"]),
                    name=str(row.get("name") or row["id"]),
                    detail=f"{row['id']} · {row.get('timezone') or 'UTC'}",
                    timezone=row.get("timezone"),
                )
            )
        if not body.get("next_cursor"):
            break
        params["cursor"] = body["next_cursor"]
    return out
