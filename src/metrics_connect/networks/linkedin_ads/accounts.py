"""The ad accounts of a LinkedIn login, for the connect page: the login's roles
(adAccountUsers?q=authenticatedUser), then each account (adAccounts/{id}) for its name,
currency and status. Only active accounts are offered."""

from __future__ import annotations

from typing import Any

import httpx

from metrics_connect.connect.discovery import Candidate, get_json
from metrics_connect.connectors.kit.restli import restli_headers
from metrics_connect.networks.linkedin_ads.connector.hooks import STREAMS

ACCOUNT_URN = "urn:li:sponsoredAccount:"


async def restli_get(http: httpx.AsyncClient, url: str, token: str) -> Any:
    return await get_json(http, url, token, headers=restli_headers(STREAMS.api.default_version))


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    base = api_base_url.rstrip("/")
    roles = await restli_get(http, f"{base}/rest/adAccountUsers?q=authenticatedUser", token)
    out = []
    for role in roles.get("elements") or []:
        account_id = str(role.get("account") or "").removeprefix(ACCOUNT_URN)
        if not account_id.isdigit() or not role.get("role"):
            continue
        account = await restli_get(http, f"{base}/rest/adAccounts/{account_id}", token)
        if account.get("status") not in ("ACTIVE", "DRAFT"):
            continue
        out.append(
            Candidate(
                external_id=account_id,
                name=str(account.get("name") or account_id),
                detail=" · ".join(
                    (
                        f"Ad account {account_id}",
                        str(account.get("currency", "")),
                        str(role["role"]),
                    )
                ),
                timezone="UTC",
            )
        )
    return out
