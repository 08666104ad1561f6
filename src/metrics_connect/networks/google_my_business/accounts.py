"""The Business Profile locations a Google login manages, for the connect page's picker:
Account Management API accounts.list, then Business Information API
accounts/{a}/locations for each account (both paged by pageToken).

The candidates' external id is the location's v4 name accounts/{a}/locations/{l}: the
reviews listing needs the account, the Performance API the location.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from metrics_connect.connect.discovery import MAX_PAGES, Candidate, get_json
from metrics_connect.networks.google_my_business.hosts import api_host
from metrics_connect.settings import get_settings


async def _pages(
    http: httpx.AsyncClient, url: str, token: str, params: dict[str, str], key: str
) -> AsyncIterator[dict[str, Any]]:
    query = dict(params)
    for _ in range(MAX_PAGES):
        body = await get_json(http, url, token, query)
        for item in body.get(key) or []:
            if isinstance(item, dict):
                yield item
        next_token = body.get("nextPageToken")
        if not next_token:
            return
        query = {**params, "pageToken": str(next_token)}


# The Google provider's API host in production (Analytics Admin): these APIs have their own.
GOOGLE_PROVIDER_HOST = "https://analyticsadmin.googleapis.com"


def listing_hosts(provider_api_base_url: str) -> tuple[str, str]:
    """(Account Management host, Business Information host). A Google provider pointed
    elsewhere than Google (the sandbox's sign-in emulator) lists the locations itself."""
    provider = provider_api_base_url.rstrip("/")
    if provider and provider != GOOGLE_PROVIDER_HOST:
        return provider, provider
    settings = get_settings()
    return api_host(settings, "accounts"), api_host(settings, "information")


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    accounts_host, information_host = listing_hosts(api_base_url)
    out = []
    async for account in _pages(http, f"{accounts_host}/v1/accounts", token, {}, "accounts"):
        account_name = str(account.get("name") or "")
        if not account_name:
            continue
        url = f"{information_host}/v1/{account_name}/locations"
        params = {"readMask": "name,title", "pageSize": "100"}
        async for location in _pages(http, url, token, params, "locations"):
            name = str(location.get("name") or "")
            if not name:
                continue
            out.append(
                Candidate(
                    external_id=f"{account_name}/{name}",
                    name=str(location.get("title") or name),
                    detail=f"Account: {account.get('accountName') or account_name}",
                )
            )
    return out
