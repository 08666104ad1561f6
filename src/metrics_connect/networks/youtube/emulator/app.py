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

from metrics_connect.networks.youtube.emulator.data import ChannelData, Upload
from metrics_connect.networks.youtube.emulator.reports import bad_request, run_report
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.google import (
    GoogleError,
    admit,
    answer_google_errors,
    answer_unknown_paths,
    quota_message,
)

PERMISSION_MESSAGE = (
    "Request had insufficient authentication scopes. The caller does not have permission."
)
RATE_LIMIT_MESSAGE = quota_message("youtubeanalytics.googleapis.com")
# The reasons of the gate's refusals, by status.
GATE_REASONS = {
    401: "authError",
    403: "insufficientPermissions",
    429: "rateLimitExceeded",
    503: "backendError",
}
MAX_PAGE = 50


@dataclass
class YoutubeEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    data: ChannelData = field(default_factory=ChannelData)


def create_app(emulator: YoutubeEmulator) -> FastAPI:
    app = FastAPI(title="YouTube APIs (sandbox)", docs_url=None, redoc_url=None)
    controls, data = emulator.controls, emulator.data

    async def gate(request: Request, endpoint: str) -> None:
        try:
            await admit(controls, request, endpoint, PERMISSION_MESSAGE, RATE_LIMIT_MESSAGE)
        except GoogleError as exc:
            exc.reason = GATE_REASONS[exc.code]
            raise

    @app.get("/v2/reports")
    async def reports(request: Request) -> JSONResponse:
        await gate(request, "reports.query")
        params = dict(request.query_params)
        # A plain JSONResponse: a large table skips the response model's validation.
        return JSONResponse(await asyncio.to_thread(run_report, data, params, controls.clock.now()))

    def parts(request: Request, allowed: set[str]) -> set[str]:
        names = {p for p in request.query_params.get("part", "").split(",") if p}
        if not names:
            raise bad_request("No filter selected. Expected one of: part", "required")
        unknown = names - allowed
        if unknown:
            raise bad_request(f"'{sorted(unknown)[0]}'", "unknownPart")
        return names

    def page_size(request: Request) -> int:
        text = request.query_params.get("maxResults", "5")
        if not text.isdigit() or not 0 <= int(text) <= MAX_PAGE:
            raise bad_request(
                f"Invalid value '{text}'. Values must be within the range: [0, 50]", "invalid"
            )
        return int(text)

    @app.get("/youtube/v3/channels")
    async def channels(request: Request) -> dict[str, Any]:
        await gate(request, "channels.list")
        names = parts(request, {"id", "snippet", "statistics", "contentDetails"})
        q = request.query_params
        wanted = set(q.get("id", "").split(",")) if q.get("id") else set()
        items = []
        if q.get("mine") == "true" or data.channel_id in wanted:
            items.append(channel_resource(data, names, controls.clock.now()))
        return listing("channelListResponse", items, len(items), 5)

    @app.get("/youtube/v3/playlistItems")
    async def playlist_items(request: Request) -> dict[str, Any]:
        await gate(request, "playlistItems.list")
        names = parts(request, {"id", "snippet", "contentDetails", "status"})
        size = page_size(request)
        q = request.query_params
        if q.get("playlistId") != data.uploads_playlist:
            raise GoogleError(
                "The playlist identified with the request's playlistId parameter cannot be "
                "found.",
                404,
                reason="playlistNotFound",
            )
        uploads = list(reversed(data.uploads(data.today(controls.clock.now()))))
        token = q.get("pageToken") or "CA0000"
        if not token.startswith("CA") or not token[2:].isdigit() or int(token[2:]) > len(uploads):
            raise bad_request("The request specifies an invalid page token.", "invalidPageToken")
        offset = int(token[2:])
        page = [playlist_item(data, u, names) for u in uploads[offset : offset + size]]
        body = listing("playlistItemListResponse", page, len(uploads), size)
        if offset + size < len(uploads):
            body["nextPageToken"] = f"CA{offset + size:04d}"
        if offset:
            body["prevPageToken"] = f"CA{max(offset - size, 0):04d}"
        return body

    @app.get("/youtube/v3/videos")
    async def videos(request: Request) -> dict[str, Any]:
        await gate(request, "videos.list")
        names = parts(request, {"id", "snippet", "statistics", "contentDetails"})
        ids = [i for i in request.query_params.get("id", "").split(",") if i]
        if len(ids) > MAX_PAGE:
            raise bad_request("The request specifies more than 50 video ids.", "tooManyIds")
        now = controls.clock.now()
        known, today = data.by_id(), data.today(now)
        items = [
            video_resource(data, known[i], names, now)
            for i in ids
            if i in known and known[i].published <= today
        ]
        return listing("videoListResponse", items, len(items), len(items))

    answer_google_errors(app)
    answer_unknown_paths(app)
    return app


def listing(kind: str, items: list[Any], total: int, per_page: int) -> dict[str, Any]:
    return {
        "kind": f"youtube#{kind}",
        "etag": "sandbox",
        "pageInfo": {"totalResults": total, "resultsPerPage": per_page},
        "items": items,
    }


def channel_resource(data: ChannelData, names: set[str], now: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "youtube#channel", "etag": "sandbox", "id": data.channel_id}
    if "snippet" in names:
        out["snippet"] = dict(data.channel["snippet"])
    if "statistics" in names:
        stats = data.channel_statistics(now)
        out["statistics"] = {
            "viewCount": str(stats["viewCount"]),
            "subscriberCount": str(stats["subscriberCount"]),
            "hiddenSubscriberCount": False,
            "videoCount": str(stats["videoCount"]),
        }
    if "contentDetails" in names:
        out["contentDetails"] = {
            "relatedPlaylists": {"likes": "", "uploads": data.uploads_playlist}
        }
    return out


def playlist_item(data: ChannelData, upload: Upload, names: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "youtube#playlistItem",
        "etag": "sandbox",
        "id": f"{data.uploads_playlist}.{upload.id}",
    }
    if "snippet" in names:
        out["snippet"] = {
            "publishedAt": upload.published_at(),
            "channelId": data.channel_id,
            "title": upload.title,
            "playlistId": data.uploads_playlist,
            "resourceId": {"kind": "youtube#video", "videoId": upload.id},
        }
    if "contentDetails" in names:
        out["contentDetails"] = {"videoId": upload.id, "videoPublishedAt": upload.published_at()}
    if "status" in names:
        out["status"] = {"privacyStatus": "public"}
    return out


def video_resource(data: ChannelData, upload: Upload, names: set[str], now: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "youtube#video", "etag": "sandbox", "id": upload.id}
    if "snippet" in names:
        out["snippet"] = {
            "publishedAt": upload.published_at(),
            "channelId": data.channel_id,
            "title": upload.title,
            "channelTitle": data.title,
        }
    if "contentDetails" in names:
        minutes, seconds = divmod(upload.duration_seconds, 60)
        out["contentDetails"] = {
            "duration": f"PT{minutes}M{seconds}S" if minutes else f"PT{seconds}S"
        }
    if "statistics" in names:
        life = data.lifetime(upload, now)
        out["statistics"] = {
            "viewCount": str(life.views),
            "likeCount": str(life.likes),
            "favoriteCount": "0",
            "commentCount": str(life.comments),
        }
    return out
