"""The connect form's live check: the API key typed reaches an E-goi account
(`GET /my-account` on the API host: its client id and name). E-goi names no time zone
there: the account's days are Lisbon's, E-goi's own (docs/networks/egoi.md)."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed

ZONE = "Europe/Lisbon"


async def check(http: httpx.AsyncClient, fields: dict[str, str]) -> list[Candidate]:
    response = await http.get("/my-account", headers={"Apikey": fields["access_token"].strip()})
    if response.status_code in (401, 403):
        raise ConnectFailed("E-goi refused this API key: copy it again from Integrations > API.")
    if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
        raise ConnectFailed(f"E-goi answered HTTP {response.status_code}.")
    info = (response.json() or {}).get("general_info") or {}
    if not info.get("client_id"):
        raise ConnectFailed("This API key reaches no E-goi account.")
    return [
        Candidate(
            external_id=str(info["client_id"]),
            name=str(info.get("name") or f"E-goi {info['client_id']}"),
            detail=str(info.get("website") or ""),
            timezone=ZONE,
        )
    ]
