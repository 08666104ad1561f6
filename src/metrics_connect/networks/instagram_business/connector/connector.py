"""The Instagram Business connector: datasets of datasets.py from the Instagram Graph API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from metrics_connect import clock
from metrics_connect.connectors.base import (
    AccountInfo,
    Connector,
    ConnectorContext,
    DatasetSpec,
    FetchRequest,
    FetchResult,
    IntegrationRevoked,
    ObjectEstimate,
    ObjectRow,
    PlannedCall,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.networks.instagram_business.connector import days
from metrics_connect.networks.instagram_business.connector.client import (
    BATCH_LIMIT,
    BatchItem,
    GraphClient,
)
from metrics_connect.networks.instagram_business.connector.datasets import (
    DATASETS,
    PERIOD_BREAKDOWNS,
    PERIOD_FIELDS,
)
from metrics_connect.networks.instagram_business.connector.metrics import (
    NAVIGATION_ACTIONS,
    account_series_metrics,
    has_deprecated_metrics,
    media_metrics,
    without_named,
)
from metrics_connect.networks.instagram_business.connector.responses import (
    add,
    breakdown_results,
    is_number,
    single_value,
    values_of,
)

MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count"
)
STORY_FIELDS = "id,media_type,media_product_type,permalink,timestamp"
PAGE_SIZE = "50"
NEW_FOLLOWERS_LIVE_DAYS = 30
ONLINE_FOLLOWERS_LIVE_DAYS = 30
AUDIENCE_BREAKDOWNS = ("age", "gender", "city", "country")
# Graph's multi-id reads take at most 50 ids.
MAX_IDS = 50
# Graph takes at most 50 operations per batch request (client.BATCH_LIMIT).
BATCH_OPERATIONS = BATCH_LIMIT
NAVIGATION_PARAMS = {"metric": "navigation", "breakdown": "story_navigation_action_type"}


def object_calls(dataset: str, estimate: ObjectEstimate) -> tuple[int, list[str]]:
    """(list pages, each insight batch's operations) that `fetch` takes for the estimated
    objects. Media: the list (newest first, 50 a page) is read until it passes the
    fetch's first day, then one insights operation per post, 50 per batch. Stories: every
    live story is listed; all their insights are two multi-id reads in one batch."""
    size = int(PAGE_SIZE)
    stories_batch = "two multi-id insights reads per kind of story"
    if estimate.in_span is None:
        return 1, ["one per post, 50 per call" if dataset == "media" else stories_batch]
    listed = estimate.newer + estimate.in_span
    if dataset == "stories":
        return max(1, -(-listed // size)), ([stories_batch] if estimate.in_span else [])
    # The page holding the first older post ends the listing; without one, the last page.
    pages = listed // size + 1 if estimate.older else max(1, -(-listed // size))
    full, rest = divmod(estimate.in_span, BATCH_OPERATIONS)
    return pages, [str(BATCH_OPERATIONS)] * full + ([str(rest)] if rest else [])


class InstagramConnector(Connector):
    slug: ClassVar[str] = "instagram_business"
    datasets: ClassVar[dict[str, DatasetSpec]] = DATASETS

    def __init__(self, ctx: ConnectorContext, *, now: Callable[[], datetime] | None = None) -> None:
        super().__init__(ctx)
        self.client = GraphClient(ctx)
        self.tz = days.zone(ctx.timezone)
        self.user_id = ctx.external_id
        self.version = self.client.version
        # The sync runs at the upstream's clock (the demo replays the sandbox's); the
        # engine uses ours.
        self.clock: Callable[[], datetime] = now or clock.now

    # --- the contract ---

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    async def account_info(self) -> AccountInfo:
        body = await self.client.get(self.user_id, {"fields": "id,username,name"})
        name = str(body.get("username") or body.get("name") or self.user_id)
        return AccountInfo(name=name, timezone=self.ctx.timezone, currency=None)

    async def fetch(self, request: FetchRequest) -> FetchResult:
        handler = {
            "account_daily": self._account_daily,
            "new_followers_daily": self._new_followers_daily,
            "account_period": self._account_period,
            "followers_snapshot": self._now_only,
            "audience_snapshot": self._now_only,
            "online_followers_snapshot": self._online_followers,
            "media": self._media,
            "stories": self._stories,
        }.get(request.dataset)
        if handler is None:
            raise UpstreamError(f"unknown Instagram dataset: {request.dataset}")
        result = await handler(request)
        today = self.today()
        if request.start <= today <= request.end and request.dataset in (
            "account_daily",
            "new_followers_daily",
            "account_period",
            "media",
            "stories",
        ):
            result.incomplete_days.add(today)
        return result

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        insights = f"{self.user_id}/insights"
        calls: list[PlannedCall] = []
        if request.dataset in ("account_daily", "new_followers_daily"):
            start, end = request.start, request.end
            if request.dataset == "new_followers_daily":
                start, end = self._live_window(start, end, NEW_FOLLOWERS_LIVE_DAYS)
            metrics = (
                ",".join(account_series_metrics(self.version))
                if request.dataset == "account_daily"
                else "follower_count"
            )
            for first, last in self._chunks(start, end):
                since, until = days.window(first, last, self.tz)
                calls.append(
                    PlannedCall(
                        "GET",
                        insights,
                        {
                            "metric": metrics,
                            "period": "day",
                            "since": str(since),
                            "until": str(until),
                        },
                    )
                )
                if request.dataset == "account_daily":
                    calls.append(
                        PlannedCall("POST", "batch", {"operations": str((last - first).days + 1)})
                    )
        elif request.dataset == "account_period":
            period_metrics = ",".join(self._period_metrics(request.breakdowns))
            for first, last in self._chunks(request.start, request.end):
                since, until = days.window(first, last, self.tz)
                params = {
                    "metric": period_metrics,
                    "metric_type": "total_value",
                    "period": "day",
                    "since": str(since),
                    "until": str(until),
                }
                if request.breakdowns:
                    params["breakdown"] = ",".join(request.breakdowns)
                calls.append(PlannedCall("GET", insights, params))
        elif request.dataset == "followers_snapshot":
            calls.append(
                PlannedCall("GET", self.user_id, {"fields": "followers_count,media_count"})
            )
        elif request.dataset == "audience_snapshot":
            calls.append(
                PlannedCall("GET", insights, self._demographics_params(request.breakdowns))
            )
        elif request.dataset == "online_followers_snapshot":
            start, end = self._live_window(request.start, request.end, ONLINE_FOLLOWERS_LIVE_DAYS)
            if start <= end:
                since, until = days.window(start, end, self.tz)
                calls.append(
                    PlannedCall(
                        "GET",
                        insights,
                        {
                            "metric": "online_followers",
                            "period": "lifetime",
                            "since": str(since),
                            "until": str(until),
                        },
                    )
                )
        elif request.dataset in ("media", "stories"):
            return self.plan_object_calls(request, ObjectEstimate(in_span=None))
        return calls

    def plan_object_calls(
        self, request: FetchRequest, estimate: ObjectEstimate
    ) -> list[PlannedCall]:
        """List pages and insight batches for `estimate`'s objects (all `estimated`: the
        listing decides). Without an estimate: one page and one batch."""
        if request.dataset not in ("media", "stories"):
            return self.plan_calls(request)
        edge = "media" if request.dataset == "media" else "stories"
        fields = MEDIA_FIELDS if edge == "media" else STORY_FIELDS
        first = {"fields": fields, "limit": PAGE_SIZE}
        pages, batches = object_calls(request.dataset, estimate)
        calls = [
            PlannedCall(
                "GET",
                f"{self.user_id}/{edge}",
                first if page == 0 else {**first, "after": "the previous page's cursor"},
                estimated=True,
            )
            for page in range(pages)
        ]
        calls += [
            PlannedCall("POST", "batch", {"operations": operations}, estimated=True)
            for operations in batches
        ]
        return calls

    # --- account time series ---

    def _chunks(self, start: date, end: date) -> list[tuple[date, date]]:
        if start > end:
            return []
        return days.chunks(start, end, 30, self.tz)

    def _live_window(self, start: date, end: date, live_days: int) -> tuple[date, date]:
        """The part of start..end the API still serves: the last `live_days` whole days."""
        today = self.today()
        return max(start, today - timedelta(days=live_days)), min(end, today - timedelta(days=1))

    async def _series(
        self, metrics: tuple[str, ...], start: date, end: date, period: str = "day"
    ) -> dict[date, dict[str, Scalar]]:
        out: dict[date, dict[str, Scalar]] = {}
        for first, last in self._chunks(start, end):
            since, until = days.window(first, last, self.tz)
            params = {"period": period, "since": str(since), "until": str(until)}
            data = await self._insights(metrics, params)
            for entry in data:
                name = str(entry.get("name"))
                for point in entry.get("values") or []:
                    if not isinstance(point, dict) or "end_time" not in point:
                        continue
                    day = days.day_ending_at(str(point["end_time"]), self.tz)
                    if first <= day <= last and is_number(point.get("value")):
                        out.setdefault(day, {})[name] = point["value"]
        return out

    async def _account_daily(self, request: FetchRequest) -> FetchResult:
        values = await self._series(
            account_series_metrics(self.version), request.start, request.end
        )
        views = await self._daily_totals("views", request.start, request.end)
        for day, value in views.items():
            values.setdefault(day, {})["views"] = value
        rows = [Row(day=day, keys={}, values=v) for day, v in sorted(values.items())]
        return FetchResult(rows=rows)

    async def _daily_totals(self, metric: str, start: date, end: date) -> dict[date, Scalar]:
        """A total_value-only metric per day: one batched operation per day."""
        items: list[BatchItem] = []
        day_list: list[date] = []
        day = start
        while day <= end:
            since, until = days.window(day, day, self.tz)
            items.append(
                BatchItem(
                    f"{self.user_id}/insights",
                    {
                        "metric": metric,
                        "metric_type": "total_value",
                        "period": "day",
                        "since": str(since),
                        "until": str(until),
                    },
                )
            )
            day_list.append(day)
            day += timedelta(days=1)
        out: dict[date, Scalar] = {}
        for day, answer in zip(day_list, await self.client.batch(items), strict=True):
            if isinstance(answer, UpstreamError):
                raise answer
            for entry in answer.get("data") or []:
                value = single_value(entry)
                if entry.get("name") == metric and value is not None:
                    out[day] = value
        return out

    async def _new_followers_daily(self, request: FetchRequest) -> FetchResult:
        start, end = self._live_window(request.start, request.end, NEW_FOLLOWERS_LIVE_DAYS)
        values = await self._series(("follower_count",), start, end) if start <= end else {}
        rows = [Row(day=day, keys={}, values=v) for day, v in sorted(values.items())]
        return FetchResult(rows=rows)

    # --- account totals for an exact period ---

    def _period_metrics(self, breakdowns: tuple[str, ...]) -> tuple[str, ...]:
        fields = tuple(
            f for f in PERIOD_FIELDS if f != "impressions" or has_deprecated_metrics(self.version)
        )
        if not breakdowns:
            return fields
        return tuple(f for f in fields if set(breakdowns) <= set(PERIOD_BREAKDOWNS.get(f, ())))

    async def _account_period(self, request: FetchRequest) -> FetchResult:
        metrics = self._period_metrics(request.breakdowns)
        if not metrics:
            raise UpstreamError(
                f"no Instagram account metric supports the breakdown {','.join(request.breakdowns)}"
            )
        windows = self._chunks(request.start, request.end)
        if len(windows) == 1:
            rows = await self._totals(metrics, request.start, request.end, request.breakdowns)
        else:
            # since/until may not span more than 30 days: additive metrics are exact as
            # sums of 30-day windows; unique counts (reach, accounts_engaged) become the
            # sum of the windows' figures, an upper bound the API offers no way to tighten.
            rows = {}
            for first, last in windows:
                part = await self._totals(metrics, first, last, request.breakdowns)
                for key, values in part.items():
                    merged = rows.setdefault(key, {})
                    for name, value in values.items():
                        merged[name] = add(merged.get(name), value)
        return FetchResult(
            rows=[Row(day=None, keys=dict(key), values=values) for key, values in rows.items()]
        )

    async def _totals(
        self, metrics: tuple[str, ...], start: date, end: date, breakdowns: tuple[str, ...]
    ) -> dict[tuple[tuple[str, str], ...], dict[str, Scalar]]:
        since, until = days.window(start, end, self.tz)
        params = {
            "metric_type": "total_value",
            "period": "day",
            "since": str(since),
            "until": str(until),
        }
        if breakdowns:
            params["breakdown"] = ",".join(breakdowns)
        rows: dict[tuple[tuple[str, str], ...], dict[str, Scalar]] = {}
        for entry in await self._insights(metrics, params):
            name = str(entry.get("name"))
            total = entry.get("total_value") or {}
            if not breakdowns:
                value = single_value(entry)
                if value is not None:
                    rows.setdefault((), {})[name] = value
                continue
            for key, value in breakdown_results(total):
                rows.setdefault(key, {})[name] = value
        return rows

    # --- snapshots ---

    async def fetch_snapshots(self, requests: list[FetchRequest]) -> list[FetchResult]:
        """Today's followers_snapshot / audience_snapshot variants in one Graph batch
        (what the daily sync takes), in the order of `requests`."""
        today = self.today()
        wanted = [r for r in requests if r.start <= today <= r.end]
        items = [self._snapshot_item(r) for r in wanted]
        answers = await self.client.batch(items) if items else []
        by_request: dict[int, FetchResult] = {}
        for request, answer in zip(wanted, answers, strict=True):
            if isinstance(answer, UpstreamError):
                if type(answer) is not UpstreamError:
                    raise answer
                # One refused variant (demographics of a small account, say) leaves the
                # others standing; the failure is logged by the client.
                continue
            by_request[id(request)] = self._snapshot_result(request, answer, today)
        return [by_request.get(id(r), FetchResult()) for r in requests]

    def _snapshot_item(self, request: FetchRequest) -> BatchItem:
        if request.dataset == "followers_snapshot":
            return BatchItem(self.user_id, {"fields": "followers_count,media_count"})
        if request.dataset == "audience_snapshot":
            unknown = set(request.breakdowns) - set(AUDIENCE_BREAKDOWNS)
            if unknown or not request.breakdowns:
                raise UpstreamError(
                    "follower_demographics needs a breakdown among age, gender, city, country"
                )
            return BatchItem(
                f"{self.user_id}/insights", self._demographics_params(request.breakdowns)
            )
        raise UpstreamError(f"{request.dataset} is not a now-only snapshot")

    def _snapshot_result(
        self, request: FetchRequest, body: dict[str, Any], today: date
    ) -> FetchResult:
        if request.dataset == "followers_snapshot":
            values: dict[str, Scalar] = {
                k: body[k] for k in ("followers_count", "media_count") if is_number(body.get(k))
            }
            return FetchResult(rows=[Row(day=today, keys={}, values=values)] if values else [])
        rows = [
            Row(day=today, keys=dict(key), values={"followers": value})
            for entry in body.get("data") or []
            if isinstance(entry, dict)
            for key, value in breakdown_results(entry.get("total_value") or {})
        ]
        return FetchResult(rows=rows)

    def _demographics_params(self, breakdowns: tuple[str, ...]) -> dict[str, str]:
        return {
            "metric": "follower_demographics",
            "period": "lifetime",
            "metric_type": "total_value",
            # Required for demographic metrics: this_week or this_month.
            "timeframe": "this_month",
            "breakdown": ",".join(breakdowns or ("gender",)),
        }

    async def _now_only(self, request: FetchRequest) -> FetchResult:
        today = self.today()
        if not request.start <= today <= request.end:
            return FetchResult()  # a past day of a now-only snapshot: the archive's business
        item = self._snapshot_item(request)
        body = await self.client.get(item.path, item.params)
        return self._snapshot_result(request, body, today)

    async def _online_followers(self, request: FetchRequest) -> FetchResult:
        start, end = self._live_window(request.start, request.end, ONLINE_FOLLOWERS_LIVE_DAYS)
        rows: list[Row] = []
        for first, last in self._chunks(start, end):
            since, until = days.window(first, last, self.tz)
            data = await self._insights(
                ("online_followers",),
                {"period": "lifetime", "since": str(since), "until": str(until)},
            )
            for entry in data:
                for point in entry.get("values") or []:
                    hours = point.get("value") if isinstance(point, dict) else None
                    if not isinstance(hours, dict) or "end_time" not in point:
                        continue
                    day = days.day_ending_at(str(point["end_time"]), self.tz)
                    if not first <= day <= last:
                        continue
                    for hour, count in sorted(hours.items(), key=lambda kv: int(kv[0])):
                        if is_number(count):
                            rows.append(
                                Row(
                                    day=day,
                                    keys={"hour": str(int(hour))},
                                    values={"online_followers": count},
                                )
                            )
        return FetchResult(rows=rows)

    # --- objects: posts, reels, stories ---

    async def _media(self, request: FetchRequest) -> FetchResult:
        posts: list[dict[str, Any]] = []
        async for item in self.client.paged(
            f"{self.user_id}/media", {"fields": MEDIA_FIELDS, "limit": PAGE_SIZE}
        ):
            if "timestamp" not in item:
                continue
            day = days.local_day(str(item["timestamp"]), self.tz)
            if day < request.start:
                break  # newest first: everything after this is older
            if day <= request.end and item.get("media_product_type") != "STORY":
                posts.append(item)
        insights = await self._media_insights(posts)
        objects = []
        for post in posts:
            values: dict[str, Scalar] = {
                k: post[k] for k in ("like_count", "comments_count") if is_number(post.get(k))
            }
            values.update(insights.get(str(post["id"]), {}))
            objects.append(self._object_row(post, values))
        return FetchResult(objects=objects)

    async def _stories(self, request: FetchRequest) -> FetchResult:
        stories = await self.list_stories(request.start, request.end)
        return await self.story_rows(stories)

    async def list_stories(self, start: date, end: date) -> list[dict[str, Any]]:
        """The live stories (the last 24 hours) posted on local days start..end."""
        stories = [
            item
            async for item in self.client.paged(
                f"{self.user_id}/stories", {"fields": STORY_FIELDS, "limit": PAGE_SIZE}
            )
            if "timestamp" in item
            and start <= days.local_day(str(item["timestamp"]), self.tz) <= end
        ]
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
        return FetchResult(
            objects=[self._object_row(s, insights.get(str(s["id"]), {})) for s in stories]
        )

    async def _story_insights_by_ids(
        self, stories: list[dict[str, Any]]
    ) -> dict[str, dict[str, Scalar]] | None:
        if not stories:
            return {}
        groups: dict[tuple[str, ...], list[str]] = {}
        for story in stories:
            metrics = media_metrics(
                self.version,
                str(story.get("media_type") or ""),
                "STORY",
                days.parse_graph_time(str(story["timestamp"])),
            )
            groups.setdefault(metrics, []).append(str(story["id"]))
        ops: list[BatchItem] = []
        for metrics, ids in groups.items():
            for start in range(0, len(ids), MAX_IDS):
                chunk = ",".join(ids[start : start + MAX_IDS])
                ops.append(BatchItem("insights", {"ids": chunk, "metric": ",".join(metrics)}))
                ops.append(BatchItem("insights", {"ids": chunk, **NAVIGATION_PARAMS}))
        out: dict[str, dict[str, Scalar]] = {}
        for op, answer in zip(ops, await self.client.batch(ops), strict=True):
            if isinstance(answer, UpstreamError):
                if type(answer) is not UpstreamError and not isinstance(answer, IntegrationRevoked):
                    raise answer
                return None
            navigation = op.params.get("metric") == "navigation"
            for media_id, body in answer.items():
                if not isinstance(body, dict):
                    continue
                values = self._navigation_values(body) if navigation else values_of(body)
                out.setdefault(str(media_id), {}).update(values)
        return out

    def _object_row(self, item: dict[str, Any], values: dict[str, Scalar]) -> ObjectRow:
        created = days.parse_graph_time(str(item["timestamp"]))
        attributes = {
            "media_type": item.get("media_type"),
            "media_product_type": item.get("media_product_type"),
            "caption": item.get("caption"),
            "permalink": item.get("permalink"),
            "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
        }
        return ObjectRow(
            id=str(item["id"]),
            day=created.astimezone(self.tz).date(),
            attributes={k: v for k, v in attributes.items() if v is not None},
            values=values,
        )

    async def _media_insights(
        self, items: list[dict[str, Any]], *, with_navigation: bool = False
    ) -> dict[str, dict[str, Scalar]]:
        """Insights of many media in Graph batch requests (never one call per post).

        Stories also get their `navigation` broken down by story_navigation_action_type,
        as a second operation per story in the same batches."""
        wanted: dict[str, tuple[str, ...]] = {}
        for item in items:
            created = days.parse_graph_time(str(item["timestamp"]))
            wanted[str(item["id"])] = media_metrics(
                self.version,
                str(item.get("media_type") or ""),
                str(item.get("media_product_type") or "FEED"),
                created,
            )
        out: dict[str, dict[str, Scalar]] = {}
        navigation = with_navigation
        # Two rounds at most: the second without metrics an answer said it does not support.
        for _ in range(2):
            if not wanted:
                break
            ids = list(wanted)
            ops = [BatchItem(f"{i}/insights", {"metric": ",".join(wanted[i])}) for i in ids]
            if navigation:
                ops += [BatchItem(f"{i}/insights", NAVIGATION_PARAMS) for i in ids]
            answers = await self.client.batch(ops)
            if navigation:
                for media_id, answer in zip(ids, answers[len(ids) :], strict=True):
                    out.setdefault(media_id, {}).update(self._navigation_values(answer))
                navigation = False
            retry: dict[str, tuple[str, ...]] = {}
            for media_id, answer in zip(ids, answers[: len(ids)], strict=True):
                if isinstance(answer, UpstreamError):
                    fewer = self._on_media_error(answer, wanted[media_id])
                    if fewer:
                        retry[media_id] = fewer
                    continue
                out.setdefault(media_id, {}).update(values_of(answer))
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
            if entry.get("name") != "navigation":
                continue
            total = single_value(entry)
            if total is not None:
                values["navigation"] = total
            for key, value in breakdown_results(entry.get("total_value") or {}):
                action = dict(key).get("story_navigation_action_type", "")
                if action in NAVIGATION_ACTIONS:
                    values[NAVIGATION_ACTIONS[action]] = value
        return values

    # --- one insights read with the deprecated-metric fallback ---

    async def _insights(
        self, metrics: tuple[str, ...], params: dict[str, str]
    ) -> list[dict[str, Any]]:
        path = f"{self.user_id}/insights"
        asked = metrics
        while True:
            try:
                body = await self.client.get(path, {"metric": ",".join(asked), **params})
            except UpstreamError as exc:
                fewer = without_named(asked, exc.message) if type(exc) is UpstreamError else asked
                if not fewer or fewer == asked:
                    raise
                asked = fewer  # an unsupported (deprecated) metric: ask without it
                continue
            return [e for e in body.get("data") or [] if isinstance(e, dict)]
