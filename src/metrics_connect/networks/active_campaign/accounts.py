"""The connect form's live check: the account URL and API key typed reach an
ActiveCampaign account (`GET /api/3/users/me`: the key's user and its time zone). The URL
was vetted by the SSRF guard and `http` reaches only addresses the guard admits."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed


def account_root(url: str) -> str:
    """The account URL as typed, without a trailing slash or the API path pasted along."""
    root = url.strip().rstrip("/")
    return root[: -len("/api/3")] if root.endswith("/api/3") else root


async def check(http: httpx.AsyncClient, fields: dict[str, str]) -> list[Candidate]:
    root = account_root(fields["account_url"])
    if not root.startswith("https://"):
        raise ConnectFailed("The account URL must start with https://.")
    response = await http.get(
        f"{root}/api/3/users/me", headers={"Api-Token": fields["access_token"].strip()}
    )
    if response.status_code in (401, 403):
        raise ConnectFailed("ActiveCampaign refused this API key: copy it again from Settings.")
    if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
        raise ConnectFailed(
            f"{root} answered HTTP {response.status_code}, not the ActiveCampaign API v3."
        )
    user = (response.json() or {}).get("user") or {}
    return [
        Candidate(
            external_id=root.removeprefix("https://").split(".")[0],
            name=f"ActiveCampaign {root.removeprefix('https://')}",
            detail=str(user.get("email") or user.get("username") or ""),
            timezone=user.get("localZoneid") or None,
        )
    ]
