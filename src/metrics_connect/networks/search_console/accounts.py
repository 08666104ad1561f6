"""The Search Console properties of a Google login (sites.list), for the connect page.

Only properties the user can read are offered: an unverified one (siteUnverifiedUser)
answers searchAnalytics.query with 403. The Google provider's API host is the Analytics
Admin API's; Google serves sites.list on the Search Console host, so the default Admin
host is swapped for it, while a configured host (the sandbox's Google emulator, a
proxy) is asked as it is.
"""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, get_json

GOOGLE_ADMIN_API = "https://analyticsadmin.googleapis.com"
SEARCH_CONSOLE_API = "https://searchconsole.googleapis.com"
PERMISSIONS = {
    "siteOwner": "Owner",
    "siteFullUser": "Full user",
    "siteRestrictedUser": "Restricted user",
}


def sites_host(api_base_url: str) -> str:
    base = api_base_url.rstrip("/")
    return SEARCH_CONSOLE_API if base == GOOGLE_ADMIN_API else base


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    body = await get_json(http, f"{sites_host(api_base_url)}/webmasters/v3/sites", token, {})
    out = []
    for entry in body.get("siteEntry", []) or []:
        url = entry.get("siteUrl")
        permission = PERMISSIONS.get(str(entry.get("permissionLevel")))
        if not url or permission is None:
            continue
        kind = "Domain property" if str(url).startswith("sc-domain:") else "URL-prefix property"
        out.append(
            Candidate(
                external_id=str(url),
                name=str(url).removeprefix("sc-domain:"),
                detail=f"{kind} · {permission}",
                # Search Console's days are Pacific-time days for every property.
                timezone="America/Los_Angeles",
            )
        )
    return out
