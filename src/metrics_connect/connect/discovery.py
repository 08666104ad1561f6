"""What a fresh token can see: the accounts offered in the picker.

Each network lists its accounts in its own folder (`accounts.py`, named by the
`connect.accounts` entry of its network.yaml) with these helpers.

The token goes in the Authorization header; paging follows cursors, never the
provider's `next` URLs (the Graph API writes the token into those).
"""

from __future__ import annotations

from collections.abc import Mapping
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


async def get_json(
    http: httpx.AsyncClient,
    url: str,
    token: str,
    params: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """The JSON a listing call answers; `headers` are the family's own (a version, say).
    Without params the URL's own query is kept (httpx replaces it with any params given,
    even none)."""
    auth = {"Authorization": f"Bearer {token}", **(headers or {})}
    try:
        response = await http.get(url, params=params or None, headers=auth)
    except httpx.HTTPError as exc:
        raise ConnectFailed(f"account listing failed ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ConnectFailed(f"account listing answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise ConnectFailed("account listing answered something that is not JSON") from None


async def graph_pages(
    http: httpx.AsyncClient, url: str, token: str, params: dict[str, str]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    query = dict(params)
    for _ in range(MAX_PAGES):
        body = await get_json(http, url, token, query)
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
