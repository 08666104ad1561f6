"""The YouTube channels of a Google login (Data API channels.list mine=true)."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, get_json

# Called with the YouTube Analytics host (network.yaml connect.accounts_base_url_setting):
# Google's Data API is on its own host; the sandbox serves both APIs on one.
ANALYTICS_HOST = "https://youtubeanalytics.googleapis.com"
DATA_HOST = "https://youtube.googleapis.com"


def listing_host(api_base: str) -> str:
    api_base = api_base.rstrip("/")
    return DATA_HOST if api_base == ANALYTICS_HOST else api_base


async def list_accounts(
    http: httpx.AsyncClient, api_base: str, version: str, token: str
) -> list[Candidate]:
    url = f"{listing_host(api_base)}/youtube/v3/channels"
    body = await get_json(http, url, token, {"part": "snippet,statistics", "mine": "true"})
    out = []
    for item in body.get("items") or []:
        snippet = item.get("snippet") or {}
        stats = item.get("statistics") or {}
        detail = snippet.get("customUrl") or ""
        if stats.get("subscriberCount") is not None:
            detail = f"{detail} · {stats['subscriberCount']} subscribers".strip(" ·")
        out.append(
            Candidate(
                external_id=str(item["id"]),
                name=str(snippet.get("title") or item["id"]),
                detail=detail,
                timezone="America/Los_Angeles",
            )
        )
    return out
