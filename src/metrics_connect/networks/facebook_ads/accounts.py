"""The ad accounts a Facebook login can read (GET /me/adaccounts)."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, graph_pages


async def list_accounts(
    http: httpx.AsyncClient, graph_base: str, version: str, token: str
) -> list[Candidate]:
    rows = await graph_pages(
        http,
        f"{graph_base}/{version}/me/adaccounts",
        token,
        {"fields": "id,account_id,name,timezone_name,currency,account_status", "limit": "100"},
    )
    out = []
    for row in rows:
        if not row.get("id"):
            continue
        currency = row.get("currency")
        out.append(
            Candidate(
                external_id=str(row["id"]),
                name=str(row.get("name") or row["id"]),
                detail=f"{row['id']}" + (f" · {currency}" if currency else ""),
                timezone=row.get("timezone_name"),
            )
        )
    return out
