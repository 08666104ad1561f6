"""The connect form's live check: the API token typed reaches PhoneTrack accounts
(`GET /api/v3/accounts` on the API host, the token as the raw `Authorization` value);
each account is a candidate, in its own time zone (Brazil's by default)."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed

ZONE = "America/Sao_Paulo"


async def check(http: httpx.AsyncClient, fields: dict[str, str]) -> list[Candidate]:
    token = fields["access_token"].strip()
    response = await http.get("/api/v3/accounts", headers={"Authorization": token})
    if response.status_code in (401, 403):
        raise ConnectFailed("PhoneTrack refused this API token: copy it again from your account.")
    if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
        raise ConnectFailed(f"PhoneTrack answered HTTP {response.status_code}.")
    rows = [r for r in (response.json() or {}).get("rows") or [] if isinstance(r, dict)]
    if not rows:
        raise ConnectFailed("This API token reaches no PhoneTrack account.")
    return [
        Candidate(
            external_id=str(row["id"]),
            name=str(row.get("name") or f"PhoneTrack account {row['id']}"),
            detail=f"PhoneTrack account {row['id']}",
            timezone=str(row.get("timezone") or ZONE),
        )
        for row in rows
        if row.get("id") is not None
    ]
