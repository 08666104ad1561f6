"""The Google Ads accounts of a login, for the connect page: customers:
listAccessibleCustomers, then each manager's hierarchy (customer_client, every level),
asked with `login-customer-id` set to that manager. A client reached only through a
manager keeps that manager's id in its credentials (`login_customer_id`): every later
call sends it. Managers themselves serve no metrics and are not offered.
"""

from __future__ import annotations

from typing import Any

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.settings import get_settings

GOOGLE_ADMIN_API = "https://analyticsadmin.googleapis.com"
GOOGLE_ADS_API = "https://googleads.googleapis.com"
HIERARCHY = (
    "SELECT customer_client.id, customer_client.descriptive_name, customer_client.manager, "
    "customer_client.currency_code, customer_client.time_zone, customer_client.level "
    "FROM customer_client WHERE customer_client.status = 'ENABLED'"
)


async def _call(
    http: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: Any = None
) -> Any:
    try:
        response = await http.request(method, url, headers=headers, json=body)
    except httpx.HTTPError as exc:
        raise ConnectFailed(f"Google Ads account listing failed ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ConnectFailed(f"Google Ads account listing answered HTTP {response.status_code}")
    return response.json()


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    settings = get_settings()
    base = api_base_url.rstrip("/")
    base = GOOGLE_ADS_API if base == GOOGLE_ADMIN_API else base
    ads_version = str(getattr(settings, "google_ads_api_version", "") or "v26")
    headers = {
        "Authorization": f"Bearer {token}",
        "developer-token": str(getattr(settings, "google_ads_developer_token", "") or ""),
    }
    listed = await _call(
        http, "GET", f"{base}/{ads_version}/customers:listAccessibleCustomers", headers
    )
    found: dict[str, Candidate] = {}
    for name in listed.get("resourceNames") or []:
        root = str(name).removeprefix("customers/")
        url = f"{base}/{ads_version}/customers/{root}/googleAds:searchStream"
        messages = await _call(
            http, "POST", url, {**headers, "login-customer-id": root}, {"query": HIERARCHY}
        )
        for message in messages or []:
            for row in message.get("results") or []:
                client = row.get("customerClient") or {}
                cid = str(client.get("id") or "")
                if not cid or client.get("manager") or (cid in found and cid != root):
                    continue
                direct = cid == root
                dashed = f"{cid[:3]}-{cid[3:6]}-{cid[6:]}"
                found[cid] = Candidate(
                    external_id=cid,
                    name=str(client.get("descriptiveName") or cid),
                    detail=f"Customer {dashed} · {client.get('currencyCode', '')}"
                    + ("" if direct else f" · via manager {root}"),
                    timezone=client.get("timeZone"),
                    extra={} if direct else {"login_customer_id": root},
                )
    return list(found.values())
