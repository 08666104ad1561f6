"""The Instagram accounts linked to the Pages a Facebook login manages
(GET /me/accounts?fields=instagram_business_account{...})."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, get_json, graph_pages, zone_from_offset


async def list_accounts(
    http: httpx.AsyncClient, graph_base: str, version: str, token: str
) -> list[Candidate]:
    # Instagram has no account time zone in the API; the days are counted in the
    # time zone of the person who connects it (GET /me?fields=timezone).
    me = await get_json(http, f"{graph_base}/{version}/me", token, {"fields": "id,name,timezone"})
    timezone = zone_from_offset(me.get("timezone")) if isinstance(me, dict) else None
    pages = await graph_pages(
        http,
        f"{graph_base}/{version}/me/accounts",
        token,
        {"fields": "id,name,instagram_business_account{id,username,name}", "limit": "100"},
    )
    out = []
    for page in pages:
        ig = page.get("instagram_business_account")
        if not isinstance(ig, dict) or not ig.get("id"):
            continue
        username = ig.get("username") or ig.get("name") or ig["id"]
        out.append(
            Candidate(
                external_id=str(ig["id"]),
                name=f"@{username}",
                detail=f"Page: {page.get('name', page.get('id', ''))}",
                timezone=timezone,
                extra={"page_id": str(page.get("id", ""))},
            )
        )
    return out
