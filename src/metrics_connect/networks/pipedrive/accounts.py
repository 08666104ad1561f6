"""The company a Pipedrive token reaches, for the connect page's picker: one candidate
from `GET /api/v1/users/me` (company id, name and domain, the user's time zone and the
company's default currency), and the company's own API host
(`https://{company_domain}.pipedrive.com`, what the token response calls `api_domain`)
kept with the credentials."""

from __future__ import annotations

import re

import httpx

from metrics_connect.connect.discovery import Candidate, get_json

_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    body = await get_json(http, f"{api_base_url.rstrip('/')}/api/v1/users/me", token, {})
    me = body.get("data") if isinstance(body, dict) else None
    if not isinstance(me, dict) or me.get("company_id") is None:
        return []
    domain = str(me.get("company_domain") or "")
    extra = {"api_domain": f"https://{domain}.pipedrive.com"} if _LABEL.match(domain) else {}
    return [
        Candidate(
            external_id=str(me["company_id"]),
            name=str(me.get("company_name") or f"Pipedrive company {me['company_id']}"),
            detail=f"{me.get('company_domain')}.pipedrive.com ({me.get('default_currency')})",
            timezone=str(me.get("timezone_name") or "") or None,
            extra=extra,
        )
    ]
