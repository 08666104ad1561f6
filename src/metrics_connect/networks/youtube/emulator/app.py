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
from metrics_connect.networks.youtube.emulator.reports import ReportError, run_report
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.google import (
    GoogleError,
    answer_unknown_paths,
    bearer_token,
    token_error,
)

PERMISSION_MESSAGE = (
    "Request had insufficient authentication scopes. The caller does not have permission."
)
RATE_LIMIT_MESSAGE = (
    "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of "
    "service 'youtubeanalytics.googleapis.com'."
)
MAX_PAGE = 50


def youtube_error(exc: GoogleError, reason: str) -> JSONResponse:
    body = exc.body()
    body["error"]["errors"] = [{"message": exc.message, "domain": "global", "reason": reason}]
    return JSONResponse(body, status_code=exc.code)


@dataclass
class YoutubeEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    data: ChannelData = field(default_factory=ChannelData)


def create_app(emulator: YoutubeEmulator) -> FastAPI:
    app = FastAPI(title="YouTube APIs (sandbox)", docs_url=None, redoc_url=None)
    controls, data = emulator.controls, emulator.data

    async def gate(request: Request, endpoint: str) -> JSONResponse | None:
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(bearer_token(request))
        if fault is not None:
            exc = token_error(fault, PERMISSION_MESSAGE)
            return youtube_error(exc, "authError" if exc.code == 401 else "insufficientPermissions")
        if controls.should_fail():
            return youtube_error(
                GoogleError("The service is currently unavailable.", 503), "backendError"
            )
        if controls.should_rate_limit():
            return youtube_error(GoogleError(RATE_LIMIT_MESSAGE, 429), "rateLimitExceeded")
        return None

    @app.get("/v2/reports")
    async def reports(request: Request) -> JSONResponse:
        refused = await gate(request, "reports.query")
        if refused is not None:
            return refused
        params = dict(request.query_params)
        now = controls.clock.now()
        try:
            body = await asyncio.to_thread(run_report, data, params, now)
        except ReportError as exc:
            return exc.response()
        except GoogleError as exc:
            return youtube_error(exc, "forbidden")
        return JSONResponse(body)

    def parts(request: Request, allowed: set[str]) -> set[str]:
        names = {p for p in request.query_params.get("part", "").split(",") if p}
        if not names:
            raise ReportError("No filter selected. Expected one of: part", "required")
        unknown = names - allowed
        if unknown:
            raise ReportError(f"'{sorted(unknown)[0]}'", "unknownPart")
        return names

    def page_size(request: Request) -> int:
        text = request.query_params.get("maxResults", "5")
        if not text.isdigit() or not 0 <= int(text) <= MAX_PAGE:
            raise ReportError(
                f"Invalid value '{text}'. Values must be within the range: [0, 50]", "invalid"
            )
        return int(text)

    @app.get("/youtube/v3/channels")
    async def channels(request: Request) -> JSONResponse:
        refused = await gate(request, "channels.list")
        if refused is not None:
            return refused
        try:
            names = parts(request, {"id", "snippet", "statistics", "contentDetails"})
        except ReportError as exc:
            return exc.response()
        q = request.query_params
        mine = q.get("mine") == "true"
        wanted = set(q.get("id", "").split(",")) if q.get("id") else set()
        items = []
        if mine or data.channel_id in wanted:
            items.append(channel_resource(data, names, controls.clock.now()))
        return JSONResponse(
            {
                "kind": "youtube#channelListResponse",
                "etag": "sandbox",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            }
        )

    @app.get("/youtube/v3/playlistItems")
    async def playlist_items(request: Request) -> JSONResponse:
        refused = await gate(request, "playlistItems.list")
        if refused is not None:
            return refused
        try:
            names = parts(request, {"id", "snippet", "contentDetails", "status"})
            size = page_size(request)
        except ReportError as exc:
            return exc.response()
        q = request.query_params
        if q.get("playlistId") != data.uploads_playlist:
            missing = GoogleError(
                "The playlist identified with the request's playlistId parameter cannot be "
                "found.",
                404,
            )
            return youtube_error(missing, "playlistNotFound")
        uploads = list(reversed(data.uploads(data.today(controls.clock.now()))))
        token = q.get("pageToken") or ""
        offset = _page_offset(token)
        if offset is None or offset > len(uploads):
            return ReportError(
                "The request specifies an invalid page token.", "invalidPageToken"
            ).response()
        page = uploads[offset : offset + size]
        body: dict[str, Any] = {
            "kind": "youtube#playlistItemListResponse",
            "etag": "sandbox",
            "pageInfo": {"totalResults": len(uploads), "resultsPerPage": size},
            "items": [playlist_item(data, u, names) for u in page],
        }
        if offset + size < len(uploads):
            body["nextPageToken"] = _page_token(offset + size)
        if offset:
            body["prevPageToken"] = _page_token(max(offset - size, 0))
        return JSONResponse(body)

    @app.get("/youtube/v3/videos")
    async def videos(request: Request) -> JSONResponse:
        refused = await gate(request, "videos.list")
        if refused is not None:
            return refused
        try:
            names = parts(request, {"id", "snippet", "statistics", "contentDetails"})
        except ReportError as exc:
            return exc.response()
        ids = [i for i in request.query_params.get("id", "").split(",") if i]
        if len(ids) > MAX_PAGE:
            return ReportError(
                "The request specifies more than 50 video ids.", "tooManyIds"
            ).response()
        now = controls.clock.now()
        known = data.by_id()
        today = data.today(now)
        items = [
            video_resource(data, known[i], names, now)
            for i in ids
            if i in known and known[i].published <= today
        ]
        return JSONResponse(
            {
                "kind": "youtube#videoListResponse",
                "etag": "sandbox",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                "items": items,
            }
        )

    answer_unknown_paths(app)
    return app


def _page_token(offset: int) -> str:
    return f"CA{offset:04d}"


def _page_offset(token: str) -> int | None:
    if not token:
        return 0
    if not token.startswith("CA") or not token[2:].isdigit():
        return None
    return int(token[2:])


def channel_resource(data: ChannelData, names: set[str], now: Any) -> dict[str, Any]:
    channel = data.channel
    out: dict[str, Any] = {"kind": "youtube#channel", "etag": "sandbox", "id": data.channel_id}
    if "snippet" in names:
        out["snippet"] = {
            "title": channel["title"],
            "description": "Specialty coffee, brewed on camera.",
            "customUrl": channel["custom_url"],
            "publishedAt": f"{channel['published']}T12:00:00Z",
            "country": channel["country"],
        }
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
            "channelTitle": data.channel["title"],
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
