"""What a fresh token can see: the accounts offered in the picker.

- Instagram Business: the Instagram accounts linked to the user's Pages
  (GET /me/accounts?fields=instagram_business_account{...}).
- Meta Ads: the user's ad accounts (GET /me/adaccounts).
- GA4: the properties of the user's accounts (Analytics Admin API
  accountSummaries), and the picked property's time zone (GET properties/{id}).

The token goes in the Authorization header; paging follows cursors, never the
provider's `next` URLs (the Graph API writes the token into those).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from metrics_connect.connect.oauth import ConnectFailed

MAX_PAGES = 20


@dataclass(frozen=True)
class Candidate:
    external_id: str
    name: str
    detail: str
    timezone: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            external_id=str(data["external_id"]),
            name=str(data["name"]),
            detail=str(data.get("detail", "")),
            timezone=data.get("timezone"),
            extra={str(k): str(v) for k, v in (data.get("extra") or {}).items()},
        )


async def _get(http: httpx.AsyncClient, url: str, token: str, params: dict[str, str]) -> Any:
    try:
        response = await http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise ConnectFailed(f"account listing failed ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ConnectFailed(f"account listing answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise ConnectFailed("account listing answered something that is not JSON") from None


async def _graph_pages(
    http: httpx.AsyncClient, url: str, token: str, params: dict[str, str]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    query = dict(params)
    for _ in range(MAX_PAGES):
        body = await _get(http, url, token, query)
        rows.extend(r for r in body.get("data", []) if isinstance(r, dict))
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not after:
            break
        query = {**params, "after": str(after)}
    return rows


def zone_from_offset(offset: Any) -> str | None:
    """The Graph API's user `timezone` (hours from UTC) as an IANA Etc/GMT zone.

    Etc/GMT zones count the other way round: UTC-3 is "Etc/GMT+3". Fractional
    offsets have no Etc zone and give None.
    """
    try:
        hours = float(offset)
    except (TypeError, ValueError):
        return None
    if not hours.is_integer() or not -14 <= hours <= 12:
        return None
    if hours == 0:
        return "UTC"
    return f"Etc/GMT{-int(hours):+d}"


async def instagram_accounts(
    http: httpx.AsyncClient, graph_base: str, version: str, token: str
) -> list[Candidate]:
    # Instagram has no account time zone in the API; the days are counted in the
    # time zone of the person who connects it (GET /me?fields=timezone).
    me = await _get(http, f"{graph_base}/{version}/me", token, {"fields": "id,name,timezone"})
    timezone = zone_from_offset(me.get("timezone")) if isinstance(me, dict) else None
    pages = await _graph_pages(
        http,
        f"{graph_base}/{version}/me/accounts",
        token,
        {"fields": "id,name,instagram_business_account{id,username,name}", "limit": "100"},
    )
    out = []
    for page in pages:
        ig = page.get("instagram_business_account")
        if not isinstance(ig, dict) or not ig.get("id"):
            continue
        username = ig.get("username") or ig.get("name") or ig["id"]
        out.append(
            Candidate(
                external_id=str(ig["id"]),
                name=f"@{username}",
                detail=f"Page: {page.get('name', page.get('id', ''))}",
                timezone=timezone,
                extra={"page_id": str(page.get("id", ""))},
            )
        )
    return out


async def ad_accounts(
    http: httpx.AsyncClient, graph_base: str, version: str, token: str
) -> list[Candidate]:
    rows = await _graph_pages(
        http,
        f"{graph_base}/{version}/me/adaccounts",
        token,
        {"fields": "id,account_id,name,timezone_name,currency,account_status", "limit": "100"},
    )
    out = []
    for row in rows:
        if not row.get("id"):
            continue
        currency = row.get("currency")
        out.append(
            Candidate(
                external_id=str(row["id"]),
                name=str(row.get("name") or row["id"]),
                detail=f"{row['id']}" + (f" · {currency}" if currency else ""),
                timezone=row.get("timezone_name"),
            )
        )
    return out


async def ga4_properties(http: httpx.AsyncClient, admin_base: str, token: str) -> list[Candidate]:
    out = []
    params = {"pageSize": "200"}
    for _ in range(MAX_PAGES):
        body = await _get(http, f"{admin_base}/v1beta/accountSummaries", token, params)
        for account in body.get("accountSummaries", []):
            for prop in account.get("propertySummaries", []) or []:
                if not prop.get("property"):
                    continue
                out.append(
                    Candidate(
                        external_id=str(prop["property"]),
                        name=str(prop.get("displayName") or prop["property"]),
                        detail=f"Account: {account.get('displayName', account.get('account'))}",
                    )
                )
        next_token = body.get("nextPageToken")
        if not next_token:
            break
        params = {"pageSize": "200", "pageToken": str(next_token)}
    return out


async def ga4_property_timezone(
    http: httpx.AsyncClient, admin_base: str, token: str, property_name: str
) -> str | None:
    body = await _get(http, f"{admin_base}/v1beta/{property_name}", token, {})
    tz = body.get("timeZone")
    return str(tz) if tz else None
