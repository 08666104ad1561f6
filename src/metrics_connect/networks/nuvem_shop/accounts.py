"""The store an app installation reaches, for the connect page's picker: Nuvemshop's
token answer names it (`user_id` is the store id); `GET /{version}/{store_id}/store`
gives its name, country (hence time zone) and currency."""

from __future__ import annotations

from typing import Any

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.networks.nuvem_shop.connector.hooks import COUNTRY_ZONES

API_VERSION = "2025-03"
USER_AGENT = "metrics-connect (https://github.com/metrics-connect/metrics-connect)"


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str, tokens: dict[str, Any]
) -> list[Candidate]:
    store_id = str(tokens.get("user_id") or "")
    if not store_id.isdigit():
        return []
    url = f"{api_base_url.rstrip('/')}/{API_VERSION}/{store_id}/store"
    headers = {"Authentication": f"bearer {token}", "User-Agent": USER_AGENT}
    try:
        response = await http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise ConnectFailed(f"store lookup failed ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ConnectFailed(f"store lookup answered HTTP {response.status_code}")
    store = response.json()
    name = store.get("name") or {}
    label = name.get(store.get("main_language") or "pt") if isinstance(name, dict) else name
    return [
        Candidate(
            external_id=store_id,
            name=str(label or f"Nuvemshop store {store_id}"),
            detail=f"{store.get('original_domain') or store_id} ({store.get('main_currency')})",
            timezone=COUNTRY_ZONES.get(str(store.get("country")), "America/Sao_Paulo"),
        )
    ]
