"""Instagram Business on the Meta Graph kit: the metrics each media type and API version
answers (streams.yaml), asked again without those an answer refuses, story navigation by
action type, and the insights of listed posts and stories."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    FetchRequest,
    FetchResult,
    IntegrationRevoked,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.meta_graph.connector import (
    GraphConnector,
    multi_id_reads,
    version_before,
)
from metrics_connect.connectors.kit.meta_graph.insights import (
    breakdown_results,
    daily_values,
    is_number,
    parse_graph_time,
    period_totals,
    series,
    single_value,
    summed_uniques,
    values_of,
    without_named,
)
from metrics_connect.connectors.kit.spec import Stream, streams_of

STREAMS = streams_of(__file__)
METRICS: dict[str, Any] = STREAMS.datasets["media"].extra
DEPRECATED_FROM: str = METRICS["deprecated_from"]
SUNSET: date = METRICS["sunset"]
IMPRESSIONS_LAST_MEDIA: datetime = METRICS["impressions_last_media"]
NAVIGATION_PARAMS: dict[str, str] = STREAMS.datasets["stories"].extra["navigation"]
NAVIGATION_ACTIONS: dict[str, str] = STREAMS.datasets["stories"].extra["navigation_actions"]
# Unique counts (reach): their sum over several calls' periods is no period's figure.
UNIQUE_METRICS = STREAMS.datasets["account_period"].extra["unique_metrics"]
AUDIENCE_BREAKDOWNS = STREAMS.datasets["audience_snapshot"].breakdowns
FOLLOWER_TYPE = "follower_type"  # the API's name of views' follower/non-follower split


def deprecated_served(version: str, today: date) -> bool:
    """Whether `impressions` and `plays` are still served (streams.yaml: media)."""
    return version_before(version, DEPRECATED_FROM) and today < SUNSET


def media_metrics(
    version: str, media_type: str, product_type: str, created_at: datetime | None, today: date
) -> tuple[str, ...]:
    old = deprecated_served(version, today)
    recent = created_at is not None and created_at > IMPRESSIONS_LAST_MEDIA
    kept = version_before(version, DEPRECATED_FROM) and not recent
    impressions = ("impressions",) if old or kept else ()
    if product_type == "STORY":
        return (*METRICS["story_metrics"], *impressions)
    if product_type == "REELS":
        return (*METRICS["reels_metrics"], *(("plays",) if old else ()))
    profile = METRICS["feed_profile_metrics"] if media_type != "CAROUSEL_ALBUM" else []
    return (*METRICS["feed_metrics"], *profile, *impressions)


def account_series_metrics(version: str, today: date) -> tuple[str, ...]:
    """Account metrics read as a daily time series (period=day)."""
    return ("reach", "impressions") if deprecated_served(version, today) else ("reach",)


class InstagramConnector(GraphConnector):
    slug: ClassVar[str] = "instagram_business"
    streams = STREAMS

    def _period_metrics(self, breakdowns: tuple[str, ...]) -> tuple[str, ...]:
        stream = STREAMS.datasets["account_period"]
        old = deprecated_served(self.version, self.today())
        fields = [f for f in stream.fields if f != "impressions" or old]
        accepted = stream.extra["metric_breakdowns"]
        return tuple(f for f in fields if set(breakdowns) <= set(accepted.get(f, ())))

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        metrics = {
            "account_daily": lambda: account_series_metrics(self.version, self.today()),
            "account_period": lambda: self._period_metrics(request.breakdowns),
        }.get(request.dataset, tuple)
        return super().variables(request, stream) | {
            "metrics": ",".join(metrics()),
            "demographics": ",".join(request.breakdowns or ("gender",)),
        }

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "account_period" and not self._period_metrics(request.breakdowns):
            breakdowns = ",".join(request.breakdowns)
            raise UpstreamError(f"no Instagram account metric supports the breakdown {breakdowns}")
        if request.dataset == "audience_snapshot" and request.start <= self.today() <= request.end:
            self._check_demographics(request)
        return await super().fetch(request)

    async def run(self, request: FetchRequest, call: Call) -> Answer:
        """An insights read, asked again without the metrics its answer calls unsupported
        (deprecated in this version, or sunset); `views` by follower in a read of its own
        (see `_views_by_follower`)."""
        breakdown = call.params.get("breakdown", "").split(",")
        metrics = call.params.get("metric", "").split(",")
        if "follow_type" not in breakdown or "views" not in metrics or call.operations:
            return await self.run_asking_fewer(request, call, "metric", without_named)
        others = [m for m in metrics if m != "views"]
        answer = await self._views_by_follower(request, call, breakdown)
        if others:
            rest = replace(call, params={**call.params, "metric": ",".join(others)})
            main = await self.run_asking_fewer(request, rest, "metric", without_named)
            answer = replace(main, records=main.records + answer.records)
        return answer

    async def _views_by_follower(
        self, request: FetchRequest, call: Call, breakdown: list[str]
    ) -> Answer:
        """Graph breaks `views` down by `follower_type` (it refuses `follow_type`, which
        `reach` takes): ask it so, and read its results back under `follow_type`."""
        api_breakdown = ",".join(FOLLOWER_TYPE if b == "follow_type" else b for b in breakdown)
        views = replace(call, params={**call.params, "metric": "views", "breakdown": api_breakdown})
        answer = await self.run_asking_fewer(request, views, "metric", without_named)
        for entry in answer.records:
            for part in (entry.get("total_value") or {}).get("breakdowns") or []:
                keys = part.get("dimension_keys") or []
                part["dimension_keys"] = ["follow_type" if k == FOLLOWER_TYPE else k for k in keys]
        return answer

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        dataset = request.dataset
        if dataset == "followers_snapshot":
            return super().result(request, answers)
        if dataset == "online_followers_snapshot":
            return FetchResult(rows=[row for a in answers for row in self._online(a)])
        if dataset in ("account_period", "audience_snapshot"):
            totals = period_totals(answers, request.breakdowns).items()
            if dataset == "account_period":
                rows = [Row(None, dict(k), v) for k, v in totals]
                return FetchResult(rows=rows, notes=summed_uniques(answers, UNIQUE_METRICS))
            today = self.today()
            return FetchResult(
                [Row(today, dict(k), {"followers": v}) for k, t in totals for v in t.values()]
            )
        days = daily_values(answers, self.tz)
        return FetchResult(rows=[Row(day, {}, v) for day, v in sorted(days.items())])

    def _online(self, answer: Answer) -> list[Row]:
        """Followers online per hour (0-23) of each day of the answer's window."""
        assert answer.call.window is not None
        rows = []
        for day, point in sorted(series(answer.records, *answer.call.window, self.tz).items()):
            hours = point.get("online_followers")
            if not isinstance(hours, dict):
                continue
            for hour, count in sorted(hours.items(), key=lambda kv: int(kv[0])):
                if is_number(count):
                    rows.append(Row(day, {"hour": str(int(hour))}, {"online_followers": count}))
        return rows

    @staticmethod
    def _check_demographics(request: FetchRequest) -> None:
        if set(request.breakdowns) - set(AUDIENCE_BREAKDOWNS) or not request.breakdowns:
            among = ", ".join(AUDIENCE_BREAKDOWNS)
            raise UpstreamError(f"follower_demographics needs a breakdown among {among}")

    def batch_item(self, request: FetchRequest) -> Call:
        """A snapshot's call in the sync's one Graph batch (`fetch_in_one_batch`)."""
        if request.dataset == "audience_snapshot":
            self._check_demographics(request)
        return super().batch_item(request)

    # --- objects: posts, reels, stories ---

    async def fetch_objects(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "stories":
            return await self.story_rows(await self.list_stories(request.start, request.end))
        listed = await self.listed_in(request, "timestamp")
        posts = [p for p in listed if p.get("media_product_type") != "STORY"]
        insights = await self._media_insights(posts)
        return FetchResult(
            objects=[self.object_row(request, p, insights.get(str(p["id"]), {})) for p in posts]
        )

    async def list_stories(self, start: date, end: date) -> list[dict[str, Any]]:
        """The live stories (the last 24 hours) posted on local days start..end."""
        request = FetchRequest("stories", start, end)
        stories = await self.listed_in(request, "timestamp", newest_first=False)
        for story in stories:
            story.setdefault("media_product_type", "STORY")
        return stories

    async def story_rows(self, stories: list[dict[str, Any]]) -> FetchResult:
        """Listed stories with their insights: all of them in two multi-id reads
        (`?ids=`, metrics and navigation) inside one batch call; per-story operations
        if a multi-id read fails (one story gone, a metric refused)."""
        insights = await self._story_insights_by_ids(stories)
        if insights is None:
            insights = await self._media_insights(stories, with_navigation=True)
        request = FetchRequest("stories", self.today(), self.today())
        return FetchResult(
            objects=[self.object_row(request, s, insights.get(str(s["id"]), {})) for s in stories]
        )

    def _metrics_of(self, item: dict[str, Any], product: str | None = None) -> tuple[str, ...]:
        kind = product or str(item.get("media_product_type") or "FEED")
        created = parse_graph_time(str(item["timestamp"]))
        media_type = str(item.get("media_type") or "")
        return media_metrics(self.version, media_type, kind, created, self.today())

    async def _story_insights_by_ids(
        self, stories: list[dict[str, Any]]
    ) -> dict[str, dict[str, Scalar]] | None:
        groups: dict[tuple[str, ...], list[str]] = {}
        for story in stories:
            groups.setdefault(self._metrics_of(story, "STORY"), []).append(str(story["id"]))
        ops: list[Call] = []
        for metrics, ids in groups.items():
            for read in multi_id_reads("insights", ids, {"metric": ",".join(metrics)}):
                ops += [
                    read,
                    replace(read, params={"ids": read.params["ids"], **NAVIGATION_PARAMS}),
                ]
        out: dict[str, dict[str, Scalar]] = {}
        for op, answer in zip(ops, await self.client.batch(ops) if ops else [], strict=True):
            if isinstance(answer, UpstreamError):
                if type(answer) is not UpstreamError and not isinstance(answer, IntegrationRevoked):
                    raise answer
                return None
            navigation = op.params.get("metric") == "navigation"
            for media_id, body in answer.items():
                if isinstance(body, dict):
                    values = self._navigation_values(body) if navigation else values_of(body)
                    out.setdefault(str(media_id), {}).update(values)
        return out

    async def _media_insights(
        self, items: list[dict[str, Any]], *, with_navigation: bool = False
    ) -> dict[str, dict[str, Scalar]]:
        """Insights of many media in Graph batch requests (never one call per post).
        Stories also get their navigation by action type, a second operation each."""
        wanted = {str(item["id"]): self._metrics_of(item) for item in items}
        out: dict[str, dict[str, Scalar]] = {}
        navigation = with_navigation
        # Two rounds at most: the second without metrics an answer said it does not support.
        for _ in range(2):
            if not wanted:
                break
            ids = list(wanted)
            ops = [Call(f"{i}/insights", {"metric": ",".join(wanted[i])}) for i in ids]
            ops += [Call(f"{i}/insights", NAVIGATION_PARAMS) for i in ids] if navigation else []
            answers = await self.client.batch(ops)
            if navigation:
                for media_id, answer in zip(ids, answers[len(ids) :], strict=True):
                    out.setdefault(media_id, {}).update(self._navigation_values(answer))
                navigation = False
            retry: dict[str, tuple[str, ...]] = {}
            for media_id, answer in zip(ids, answers[: len(ids)], strict=True):
                if not isinstance(answer, UpstreamError):
                    out.setdefault(media_id, {}).update(values_of(answer))
                elif fewer := self._on_media_error(answer, wanted[media_id]):
                    retry[media_id] = fewer
            wanted = retry
        return out

    def _on_media_error(self, error: UpstreamError, metrics: tuple[str, ...]) -> tuple[str, ...]:
        """Metrics to ask again for one media, or () to leave it without insights."""
        if isinstance(error, IntegrationRevoked) and "viewers" in error.message.lower():
            return ()  # "(#10) Not enough viewers for the media to show insights"
        if type(error) is UpstreamError:
            fewer = without_named(metrics, error.message)
            if fewer and fewer != metrics:
                return fewer
            if "does not exist" in error.message.lower() or "expired" in error.message.lower():
                return ()  # the media vanished between the listing and its insights
        raise error

    def _navigation_values(self, answer: dict[str, Any] | UpstreamError) -> dict[str, Scalar]:
        if isinstance(answer, UpstreamError):
            if type(answer) is not UpstreamError:
                self._on_media_error(answer, ())  # raises unless "not enough viewers"
            return {}  # this version does not break navigation down: leave it out
        values: dict[str, Scalar] = {}
        for entry in answer.get("data") or []:
            if entry.get("name") == "navigation":
                total = single_value(entry)
                values.update({"navigation": total} if total is not None else {})
                for key, value in breakdown_results(entry.get("total_value") or {}):
                    action = dict(key).get("story_navigation_action_type", "")
                    if action in NAVIGATION_ACTIONS:
                        values[NAVIGATION_ACTIONS[action]] = value
        return values
