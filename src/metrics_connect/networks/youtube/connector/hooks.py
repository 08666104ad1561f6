"""YouTube on the Google kit: what streams.yaml cannot say.

Each dataset's report parameters (dimensions, metrics, sort, maxResults) follow the
API's allowed combinations; answers are column tables (columnHeaders + rows) read by
header name; averageViewPercentage becomes watchedViewPercent (x views) so that the
catalog divides summed parts again; the top videos' titles and publication times come
from one videos.list call; Data API paths go to the Data API host.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector, add_differences
from metrics_connect.connectors.kit.google.client import GoogleClient
from metrics_connect.connectors.kit.spec import Stream, streams_of

STREAMS = streams_of(__file__)
ANALYTICS_HOST = "https://youtubeanalytics.googleapis.com"
DATA_HOST = "https://youtube.googleapis.com"
DATA_API_PREFIX = "youtube/v3/"
# Datasets whose report needs one of its breakdowns (the API has no such report without).
NEEDS_BREAKDOWN = frozenset({"demographics"})


def data_api_base(analytics_base: str, configured: str | None) -> str:
    """The Data API host: the configured one; else Google's when the Analytics host is
    Google's, or the same host (a sandbox or proxy serving both APIs)."""
    if configured:
        return configured.rstrip("/")
    analytics_base = analytics_base.rstrip("/")
    return DATA_HOST if analytics_base == ANALYTICS_HOST else analytics_base


class YoutubeClient(GoogleClient):
    def url(self, path: str) -> str:
        if path.lstrip("/").startswith(DATA_API_PREFIX):
            configured = getattr(self.ctx.settings, "youtube_data_api_base_url", None)
            return f"{data_api_base(self.base, configured)}/{path.lstrip('/')}"
        return super().url(path)


class YoutubeConnector(KitConnector):
    slug: ClassVar[str] = "youtube"
    streams = STREAMS
    client_class = YoutubeClient
    client: YoutubeClient

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        self.refuse_unknown_breakdowns(request)
        if request.dataset in NEEDS_BREAKDOWN and not request.breakdowns:
            raise UpstreamError(f"dataset {request.dataset} needs one of its breakdowns")
        # Without a breakdown, a period dataset asks the channel's totals (no dimension).
        by_video = self._by_video(request)
        dims = ["video"] if by_video else list(request.breakdowns)
        sort = ",".join(dims)
        if stream.kind == "daily":
            dims = ["day", *dims]
            sort = "day"
        elif by_video:
            sort = "-views"
        max_results = stream.extra.get("max_results") if by_video else None
        return super().variables(request, stream) | {
            "metrics": ",".join(stream.extra.get("metrics", ())),
            "dimensions": ",".join(dims),
            "sort": sort,
            "max_results": str(max_results) if max_results else "",
            "video_ids": "",
        }

    @staticmethod
    def _by_video(request: FetchRequest) -> bool:
        return request.dataset == "top_videos" and bool(request.breakdowns)

    def plan(self, request: FetchRequest) -> list[Call]:
        calls = super().plan(request)
        if request.dataset == "top_videos" and not self._by_video(request):
            return [c for c in calls if c.requester == "report"]
        return calls

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if not self._by_video(request):
            return await super().fetch(request)
        report, videos = self.plan(request)
        answers = [await self.run(request, report)]
        ids = [str(r[0]) for r in (answers[0].body or {}).get("rows") or []]
        if ids:
            params = {**videos.params, "id": ",".join(ids)}
            answers.append(await self.run(request, replace(videos, params=params)))
        result = self.result(request, answers)
        result.incomplete_days |= self.incomplete(request)
        return result

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        stream = self.stream(request)
        if stream.kind == "snapshot":
            return self._snapshot(answers)
        videos = {
            str(item.get("id")): item.get("snippet") or {}
            for answer in answers
            if answer.call.requester == "videos"
            for item in answer.records
        }
        rows: list[Row] = []
        for answer in answers:
            if answer.call.requester != "report":
                continue
            body = answer.body or {}
            names = [h["name"] for h in body.get("columnHeaders") or []]
            for raw in body.get("rows") or []:
                cells = dict(zip(names, raw, strict=True))
                rows.append(self._row(request, stream, cells, videos))
        return FetchResult(rows=rows)

    def _row(
        self,
        request: FetchRequest,
        stream: Stream,
        cells: dict[str, Any],
        videos: dict[str, dict[str, Any]],
    ) -> Row:
        day = date.fromisoformat(str(cells.pop("day"))) if stream.kind == "daily" else None
        keys = {b: str(cells[b]) for b in request.breakdowns if b in cells}
        values: dict[str, Scalar] = {
            k: v for k, v in cells.items() if k in stream.fields and isinstance(v, int | float)
        }
        views = values.get("views") or 0
        if "averageViewPercentage" in cells:
            percent = cells["averageViewPercentage"] or 0
            assert isinstance(views, int | float)
            values["watchedViewPercent"] = float(percent) * views
        add_differences(values, stream.differences)
        if "video" in cells:
            snippet = videos.get(str(cells["video"]), {})
            keys["video"] = str(cells["video"])
            if "video_title" in request.breakdowns:
                keys["video_title"] = str(snippet.get("title") or cells["video"])
            if snippet.get("publishedAt"):
                values["publishedAt"] = str(snippet["publishedAt"])
        return Row(day=day, keys=keys, values=values)

    def _snapshot(self, answers: list[Answer]) -> FetchResult:
        rows = []
        for answer in answers:
            for item in answer.records:
                stats = item.get("statistics") or {}
                values: dict[str, Scalar] = {
                    name: int(stats[name])
                    for name in ("subscriberCount", "viewCount", "videoCount")
                    if str(stats.get(name, "")).isdigit()
                }
                if values:
                    rows.append(Row(day=self.today(), keys={}, values=values))
        return FetchResult(rows=rows)

    async def account_info(self) -> AccountInfo:
        """The channel's title (channels.list part=snippet); days are Pacific time."""
        body = await self.client.get(
            "/youtube/v3/channels", {"part": "snippet", "id": self.ctx.external_id}
        )
        items = body.get("items") if isinstance(body, dict) else None
        snippet = (items[0].get("snippet") if items else None) or {}
        return AccountInfo(
            name=str(snippet.get("title") or self.ctx.external_id),
            timezone=self.ctx.timezone,
            currency=None,
        )
