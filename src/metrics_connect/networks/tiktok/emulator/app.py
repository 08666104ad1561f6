"""The emulated TikTok API for Business v1.3, Business Account endpoints (a creator's
own TikTok account, authorized through TikTok's account-holder login):

- GET /open_api/v1.3/business/get/          profile and daily metrics (UTC days; the
  last 60 days are kept, through yesterday: TikTok lags a day)
- GET /open_api/v1.3/business/video/list/   the account's videos, newest first, with
  their lifetime counts; cursor paging, at most 20 a page (`max_count`)

Answers are HTTP 200 in the envelope of sandbox/kit/code_envelope.py (40001: scope or
account not authorized). Endpoint names for the call counter: `business.get`,
`business.video.list`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from metrics_connect.networks.tiktok.emulator.data import CreatorData, load_data
from metrics_connect.sandbox.kit.code_envelope import (
    CodeError,
    admit,
    envelope,
    route,
    unknown_route,
)
from metrics_connect.sandbox.kit.controls import SandboxControls

API = "/open_api/v1.3"
KEPT_DAYS = 60
MAX_COUNT = 20
DAILY_FIELDS = ("followers_count", "profile_views", "video_views", "likes", "comments", "shares")
VIDEO_FIELDS = (
    "item_id", "create_time", "caption", "share_url", "embed_url", "thumbnail_url",
    "video_duration", "video_views", "likes", "comments", "shares", "reach",
)  # fmt: skip


def fields_of(request: Request, allowed: tuple[str, ...], default: list[str]) -> list[str]:
    raw = request.query_params.get("fields")
    if not raw:
        return default
    try:
        fields = json.loads(raw)
    except ValueError:
        raise CodeError(40002, "fields: invalid JSON array") from None
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise CodeError(40002, f"fields: {unknown[0]} is not a valid field")
    return [str(f) for f in fields]


@dataclass
class TikTokEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    data: CreatorData = field(default_factory=load_data)

    async def admit(self, request: Request, endpoint: str) -> None:
        revoked = "The TikTok account did not authorize this scope."
        too_many = "Too many requests. Request QPS exceeds the limit."
        await admit(self.controls, request, endpoint, revoked, too_many)
        if request.query_params.get("business_id") != self.data.open_id:
            raise CodeError(40001, "No permission to access this TikTok account.")

    async def account(self, request: Request) -> JSONResponse:
        at = self.controls.clock.now()
        today = self.data.days.day_of(at)
        fields = fields_of(
            request,
            ("username", "display_name", "profile_image", "followers_count", "metrics",
             *(f for f in DAILY_FIELDS if f != "followers_count")),
            ["display_name", "profile_image"],
        )  # fmt: skip
        info = self.data.account
        out: dict[str, Any] = {
            "username": info["username"],
            "display_name": info["display_name"],
            "profile_image": f"https://p16-sign.tiktokcdn.com/sandbox/{info['username']}.jpeg",
            "followers_count": self.data.followers_at(today, at),
        }
        out = {k: v for k, v in out.items() if k in fields}
        daily = [f for f in fields if f in DAILY_FIELDS and f != "followers_count"]
        if "metrics" in fields or daily:
            out["metrics"] = self._metrics(request, today, at, daily)
        return envelope(0, "OK", out)

    def _metrics(self, request: Request, today: date, at: Any, daily: list[str]) -> list[Any]:
        try:
            start = date.fromisoformat(request.query_params.get("start_date") or "")
            end = date.fromisoformat(request.query_params.get("end_date") or "")
        except ValueError:
            raise CodeError(40002, "start_date and end_date are required (YYYY-MM-DD)") from None
        if end < start:
            raise CodeError(40002, "end_date must not be earlier than start_date")
        if start < today - timedelta(days=KEPT_DAYS) or end >= today:
            raise CodeError(
                40002, f"Dates must be within the last {KEPT_DAYS} days, up to yesterday (UTC)"
            )
        rows = []
        day = start
        while day <= end:
            figures = self.data.day_metrics(day, at)
            if figures is not None:
                names = ["followers_count", *(daily or DAILY_FIELDS[1:])]
                rows.append({"date": day.isoformat(), **{k: figures[k] for k in names}})
            day += timedelta(days=1)
        return rows

    async def videos(self, request: Request) -> JSONResponse:
        at = self.controls.clock.now()
        fields = fields_of(request, VIDEO_FIELDS, ["item_id"])
        try:
            cursor = int(request.query_params.get("cursor") or 0)
            count = int(request.query_params.get("max_count") or MAX_COUNT)
        except ValueError:
            raise CodeError(40002, "cursor and max_count are integers") from None
        if not 1 <= count <= MAX_COUNT:
            raise CodeError(40002, f"max_count must be between 1 and {MAX_COUNT}")
        found = self.data.videos(at)
        page = found[cursor : cursor + count]
        items = []
        for video in page:
            stats = self.data.video_stats(video, at)
            item = {
                "item_id": video.item_id,
                "create_time": str(int(video.posted.timestamp())),
                "caption": video.caption,
                "share_url": f"https://www.tiktok.com/@sandboxbakery/video/{video.item_id}",
                "embed_url": f"https://www.tiktok.com/embed/v2/{video.item_id}",
                "thumbnail_url": f"https://p16-sign.tiktokcdn.com/sandbox/{video.item_id}.jpeg",
                "video_duration": float(video.duration),
                **stats,
            }
            items.append({k: v for k, v in item.items() if k in fields})
        more = cursor + count < len(found)
        return envelope(0, "OK", {"videos": items, "cursor": cursor + len(page), "has_more": more})


def create_app(emulator: TikTokEmulator) -> Starlette:
    return Starlette(
        routes=[
            route(f"{API}/business/get/", "business.get", emulator.account, emulator.admit),
            route(
                f"{API}/business/video/list/",
                "business.video.list",
                emulator.videos,
                emulator.admit,
            ),
            unknown_route(),
        ]
    )
