"""The portal a HubSpot token reaches, for the connect page's picker: one candidate from
`GET /account-info/v3/details` (portal id, time zone, company currency)."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, get_json


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    body = await get_json(http, f"{api_base_url.rstrip('/')}/account-info/v3/details", token, {})
    portal = body.get("portalId") if isinstance(body, dict) else None
    if portal is None:
        return []
    return [
        Candidate(
            external_id=str(portal),
            name=f"HubSpot portal {portal}",
            detail=f"{body.get('uiDomain') or 'app.hubspot.com'} ({body.get('companyCurrency')})",
            timezone=str(body.get("timeZone") or "") or None,
        )
    ]
