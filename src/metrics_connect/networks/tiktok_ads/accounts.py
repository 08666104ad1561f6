"""The advertisers a TikTok for Business grant covers: the token answer names their ids
(`advertiser_ids`), advertiser/info/ gives each one's name, currency and time zone."""

from __future__ import annotations

import json
from typing import Any

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed

MAX_IDS = 100  # advertiser/info/ takes at most 100 ids a call


async def list_accounts(
    http: httpx.AsyncClient, api_base: str, version: str, token: str, tokens: dict[str, Any]
) -> list[Candidate]:
    ids = [str(i) for i in tokens.get("advertiser_ids") or []]
    out: list[Candidate] = []
    for first in range(0, len(ids), MAX_IDS):
        chunk = ids[first : first + MAX_IDS]
        try:
            response = await http.get(
                f"{api_base.rstrip('/')}/open_api/v1.3/advertiser/info/",
                params={"advertiser_ids": json.dumps(chunk)},
                headers={"Access-Token": token},
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ConnectFailed(f"advertiser listing failed ({type(exc).__name__})") from None
        if not isinstance(body, dict) or body.get("code") != 0:
            code = body.get("code") if isinstance(body, dict) else response.status_code
            raise ConnectFailed(f"advertiser listing answered code {code}")
        for info in (body.get("data") or {}).get("list") or []:
            out.append(
                Candidate(
                    external_id=str(info["advertiser_id"]),
                    name=str(info.get("name") or info["advertiser_id"]),
                    detail=" · ".join(
                        str(info[k]) for k in ("currency", "timezone") if info.get(k)
                    ),
                    timezone=str(info.get("timezone") or "") or None,
                )
            )
    return out
