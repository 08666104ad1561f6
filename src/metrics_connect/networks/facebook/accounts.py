"""The Pages a Facebook login manages, for the account picker (GET /me/accounts).

Only Pages on which the person may perform the ANALYZE task can be read (Page Insights
needs it). The Page's own access token is not kept here: the connector asks it with
the login's token on its first call and keeps it with the encrypted credentials."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, graph_pages

TIMEZONE = "America/Los_Angeles"  # Page Insights days, whatever the Page's place


async def list_accounts(
    http: httpx.AsyncClient, graph_base: str, version: str, token: str
) -> list[Candidate]:
    pages = await graph_pages(
        http,
        f"{graph_base}/{version}/me/accounts",
        token,
        {"fields": "id,name,category,tasks", "limit": "100"},
    )
    out = []
    for page in pages:
        tasks = page.get("tasks")
        if not page.get("id") or (isinstance(tasks, list) and "ANALYZE" not in tasks):
            continue
        out.append(
            Candidate(
                external_id=str(page["id"]),
                name=str(page.get("name") or page["id"]),
                detail=f"Page · {page.get('category') or page['id']}",
                timezone=TIMEZONE,
            )
        )
    return out
