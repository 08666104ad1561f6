"""The connect form's live check: the API token typed reaches an RD Station CRM account
(`GET /api/v1/users?token=` on the API host, its users); v1 names no account, so the
candidate is the token's first user's account, its time zone RD Station's (Brazil)."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed

ZONE = "America/Sao_Paulo"


async def check(http: httpx.AsyncClient, fields: dict[str, str]) -> list[Candidate]:
    token = fields["access_token"].strip()
    response = await http.get("/api/v1/users", params={"token": token})
    if response.status_code in (401, 403):
        raise ConnectFailed(
            "RD Station CRM refused this API token: copy it again from your profile."
        )
    if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
        raise ConnectFailed(f"RD Station CRM answered HTTP {response.status_code}.")
    users = (response.json() or {}).get("users") or []
    if not users:
        raise ConnectFailed("This API token reaches no RD Station CRM user.")
    first = users[0]
    return [
        Candidate(
            external_id=str(first.get("id") or first.get("_id")),
            name=f"RD Station CRM of {first.get('name') or first.get('email')}",
            detail=f"{len(users)} users",
            timezone=ZONE,
        )
    ]
