"""The emulated YouTube APIs, one app for both hosts (the sandbox serves them together):

- GET /v2/reports                 YouTube Analytics API v2 reports.query
- GET /youtube/v3/channels        Data API v3 channels.list (mine=true or id=)
- GET /youtube/v3/playlistItems   the uploads playlist, newest first, 50 a page
- GET /youtube/v3/videos          videos.list by id (at most 50 ids)

OAuth Bearer tokens follow the sandbox rule; errors are Google's envelope with YouTube's
`errors[].reason`. The shared controls inject latency, 429 rateLimitExceeded, 503,
expired (401) and revoked (403) tokens, and count calls per endpoint.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from metrics_connect.networks.youtube.emulator.data import PACKAGE, ChannelData
from metrics_connect.networks.youtube.emulator.reports import refusal, run_report
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.google import (
    GoogleError,
    admit,
    answer_google_errors,
    answer_unknown_paths,
    quota_message,
)
from metrics_connect.sandbox.kit.spec import load_spec
from metrics_connect.sandbox.kit.templates import fill

GATE = load_spec(PACKAGE, "data.yaml", "gate", dict[str, str])
GATE_REASONS = load_spec(PACKAGE, "data.yaml", "gate_reasons", dict[int, str])
RESOURCES = load_spec(PACKAGE, "data.yaml", "resources", dict[str, dict[str, Any]])
LISTING = load_spec(PACKAGE, "data.yaml", "listing", dict[str, Any])
MAX_PAGE = 50


@dataclass
class YoutubeEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    data: ChannelData = field(default_factory=ChannelData)


def create_app(emulator: YoutubeEmulator) -> FastAPI:
    app = FastAPI(title="YouTube APIs (sandbox)", docs_url=None, redoc_url=None)
    controls, data = emulator.controls, emulator.data
    # What every resource's template reads of the channel.
    channel = {
        "channel_id": data.channel_id,
        "channel_title": data.title,
        "playlist": data.uploads_playlist,
        "snippet": data.channel["snippet"],
    }

    async def gate(request: Request, endpoint: str) -> None:
        too_many = quota_message(GATE["quota_service"])
        try:
            await admit(controls, request, endpoint, GATE["permission"], too_many)
        except GoogleError as exc:
            exc.reason = GATE_REASONS[exc.code]
            raise

    @app.get("/v2/reports")
    async def reports(request: Request) -> JSONResponse:
        await gate(request, "reports.query")
        params = dict(request.query_params)
        # A plain JSONResponse: a large table skips the response model's validation.
        return JSONResponse(await asyncio.to_thread(run_report, data, params, controls.clock.now()))

    def parts(request: Request, resource: str) -> set[str]:
        """The parts asked for, each one the resource has (its `id` is always shown)."""
        names = {p for p in request.query_params.get("part", "").split(",") if p}
        if not names:
            raise refusal("no_part")
        unknown = names - {"id", *RESOURCES[resource]["parts"]}
        if unknown:
            raise refusal("unknown_part", name=sorted(unknown)[0])
        return names

    def page_size(request: Request) -> int:
        text = request.query_params.get("maxResults", "5")
        if not text.isdigit() or not 0 <= int(text) <= MAX_PAGE:
            raise refusal("out_of_range", text=text)
        return int(text)

    @app.get("/youtube/v3/channels")
    async def channels(request: Request) -> dict[str, Any]:
        await gate(request, "channels.list")
        names = parts(request, "channel")
        q = request.query_params
        wanted = set(q.get("id", "").split(",")) if q.get("id") else set()
        items = []
        if q.get("mine") == "true" or data.channel_id in wanted:
            now = controls.clock.now()
            stats = data.channel_statistics(now) if "statistics" in names else {}
            items.append(resource("channel", names, channel | {"stats": stats}))
        return listing("channelListResponse", items, len(items), 5)

    @app.get("/youtube/v3/playlistItems")
    async def playlist_items(request: Request) -> dict[str, Any]:
        await gate(request, "playlistItems.list")
        names = parts(request, "playlistItem")
        size = page_size(request)
        q = request.query_params
        if q.get("playlistId") != data.uploads_playlist:
            raise refusal("playlist_not_found")
        uploads = list(reversed(data.uploads(data.today(controls.clock.now()))))
        token = q.get("pageToken") or "CA0000"
        if not token.startswith("CA") or not token[2:].isdigit() or int(token[2:]) > len(uploads):
            raise refusal("bad_page_token")
        offset = int(token[2:])
        page = [
            resource("playlistItem", names, channel | {"video": u, "published": u.published_at()})
            for u in uploads[offset : offset + size]
        ]
        body = listing("playlistItemListResponse", page, len(uploads), size)
        if offset + size < len(uploads):
            body["nextPageToken"] = f"CA{offset + size:04d}"
        if offset:
            body["prevPageToken"] = f"CA{max(offset - size, 0):04d}"
        return body

    @app.get("/youtube/v3/videos")
    async def videos(request: Request) -> dict[str, Any]:
        await gate(request, "videos.list")
        names = parts(request, "video")
        ids = [i for i in request.query_params.get("id", "").split(",") if i]
        if len(ids) > MAX_PAGE:
            raise refusal("too_many_ids")
        now = controls.clock.now()
        known, today = data.by_id(), data.today(now)
        items = []
        for upload in (known[i] for i in ids if i in known and known[i].published <= today):
            minutes, seconds = divmod(upload.duration_seconds, 60)
            values = channel | {
                "video": upload,
                "published": upload.published_at(),
                "duration": f"PT{minutes}M{seconds}S" if minutes else f"PT{seconds}S",
                "life": data.lifetime(upload, now) if "statistics" in names else None,
            }
            items.append(resource("video", names, values))
        return listing("videoListResponse", items, len(items), len(items))

    answer_google_errors(app)
    answer_unknown_paths(app)
    return app


def resource(name: str, parts: set[str], values: dict[str, Any]) -> dict[str, Any]:
    """A Data API resource with the parts asked for, filled from `values`."""
    template = RESOURCES[name]
    shown = {part: t for part, t in template["parts"].items() if part in parts}
    return dict(fill({**template["fields"], **shown}, values))


def listing(kind: str, items: list[Any], total: int, per_page: int) -> dict[str, Any]:
    values = {"kind": kind, "items": items, "total": total, "per_page": per_page}
    return dict(fill(LISTING, values))
