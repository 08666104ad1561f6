"""The GA4 properties of a Google login's accounts (Analytics Admin API
accountSummaries), and a picked property's time zone (GET properties/{id})."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import (
    MAX_PAGES,
    Candidate,
    get_json,
)


async def list_accounts(
    http: httpx.AsyncClient, admin_base: str, version: str, token: str
) -> list[Candidate]:
    out = []
    params = {"pageSize": "200"}
    for _ in range(MAX_PAGES):
        body = await get_json(http, f"{admin_base}/v1beta/accountSummaries", token, params)
        for account in body.get("accountSummaries", []):
            for prop in account.get("propertySummaries", []) or []:
                if not prop.get("property"):
                    continue
                out.append(
                    Candidate(
                        external_id=str(prop["property"]),
                        name=str(prop.get("displayName") or prop["property"]),
                        detail=f"Account: {account.get('displayName', account.get('account'))}",
                    )
                )
        next_token = body.get("nextPageToken")
        if not next_token:
            break
        params = {"pageSize": "200", "pageToken": str(next_token)}
    return out


async def account_timezone(
    http: httpx.AsyncClient, admin_base: str, token: str, property_name: str
) -> str | None:
    body = await get_json(http, f"{admin_base}/v1beta/{property_name}", token, {})
    tz = body.get("timeZone")
    return str(tz) if tz else None
