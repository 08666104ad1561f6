"""The ad accounts a Pinterest login can read (GET /v5/ad_accounts, bookmark paging),
for the connect page: owned ones and those shared through Business Access."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, get_json

MAX_PAGES = 20


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    out: list[Candidate] = []
    params = {"page_size": "250", "include_shared_accounts": "true"}
    for _ in range(MAX_PAGES):
        body = await get_json(http, f"{api_base_url.rstrip('/')}/v5/ad_accounts", token, params)
        for item in body.get("items", []) or []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            roles = ", ".join(str(p).title() for p in item.get("permissions") or [])
            detail = " · ".join(x for x in (str(item.get("currency") or ""), roles) if x)
            out.append(
                Candidate(
                    external_id=str(item["id"]),
                    name=str(item.get("name") or item["id"]),
                    detail=detail,
                    timezone="UTC",  # Pinterest's analytics days are UTC days
                )
            )
        bookmark = body.get("bookmark")
        if not bookmark:
            break
        params = {**params, "bookmark": str(bookmark)}
    return out
