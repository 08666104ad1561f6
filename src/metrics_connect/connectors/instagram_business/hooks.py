"""Instagram Business on the Meta Graph kit: what streams.yaml cannot say.

Which metrics each media type and API version answers (Meta's IG Media/User Insights
references: `impressions` until v22.0 and only for media up to 2024-07-01, `plays` on
reels until v22.0, profile metrics not on carousels and reels), the fallback that asks
again without a metric an answer refuses, story navigation by action type, and the
listings of posts and stories whose insights depend on what the listing returns.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    IntegrationRevoked,
    ObjectEstimate,
    ObjectRow,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.meta_graph.client import BATCH_LIMIT, MAX_IDS, GraphClient
from metrics_connect.connectors.kit.meta_graph.insights import (
    add,
    breakdown_results,
    is_number,
    local_day,
    parse_graph_time,
    series,
    single_value,
    values_of,
)
from metrics_connect.connectors.kit.spec import Stream, streams_of

STREAMS = streams_of(__file__)
METRICS: dict[str, Any] = STREAMS.datasets["media"].extra
# impressions is answered for media created up to this instant only.
IMPRESSIONS_LAST_MEDIA = datetime(2024, 7, 1, 23, 59, 59, tzinfo=UTC)
NAVIGATION_PARAMS = {"metric": "navigation", "breakdown": "story_navigation_action_type"}
NAVIGATION_ACTIONS = {
    "tap_forward": "taps_forward",
    "tap_back": "taps_back",
    "tap_exit": "exits",
    "swipe_forward": "swipe_forward",
}
AUDIENCE_BREAKDOWNS = ("age", "gender", "city", "country")


def parse_version(version: str) -> tuple[int, int]:
    match = re.match(r"v?(\d+)(?:\.(\d+))?", version.strip())
    return (int(match.group(1)), int(match.group(2) or 0)) if match else (0, 0)


def has_deprecated_metrics(version: str) -> bool:
    """Versions before v22.0 still answer impressions and plays."""
    return parse_version(version) < (22, 0)


def media_metrics(
    version: str, media_type: str, product_type: str, created_at: datetime | None
) -> tuple[str, ...]:
    old = has_deprecated_metrics(version)
    impressions_ok = old and (created_at is None or created_at <= IMPRESSIONS_LAST_MEDIA)
    if product_type == "STORY":
        return (*METRICS["story_metrics"], *(("impressions",) if impressions_ok else ()))
    if product_type == "REELS":
        return (*METRICS["reels_metrics"], *(("plays",) if old else ()))
    metrics: tuple[str, ...] = tuple(METRICS["feed_metrics"])
    if media_type != "CAROUSEL_ALBUM":
        metrics += tuple(METRICS["feed_profile_metrics"])
    return metrics + (("impressions",) if impressions_ok else ())


def account_series_metrics(version: str) -> tuple[str, ...]:
    """Account metrics read as a daily time series (period=day)."""
    return ("reach", "impressions") if has_deprecated_metrics(version) else ("reach",)


def without_named(metrics: tuple[str, ...], message: str) -> tuple[str, ...]:
    """The metrics an upstream "unsupported metric" message does not name."""
    named = set(re.findall(r"[a-z_]+", message.lower()))
    return tuple(m for m in metrics if m not in named)


def object_calls(dataset: str, estimate: ObjectEstimate) -> tuple[int, list[str]]:
    """(list pages, each insight batch's operations) that `fetch` takes for the estimated
    objects. Media: the list (newest first, 50 a page) is read until it passes the
    fetch's first day, then one insights operation per post, 50 per batch. Stories: every
    live story is listed; all their insights are two multi-id reads in one batch."""
    size = STREAMS.requester(dataset, "list").paginator.page_size or 1
    stories_batch = "two multi-id insights reads per kind of story"
    if estimate.in_span is None:
        return 1, ["one per post, 50 per call" if dataset == "media" else stories_batch]
    listed = estimate.newer + estimate.in_span
    if dataset == "stories":
        return max(1, -(-listed // size)), ([stories_batch] if estimate.in_span else [])
    # The page holding the first older post ends the listing; without one, the last page.
    pages = listed // size + 1 if estimate.older else max(1, -(-listed // size))
    full, rest = divmod(estimate.in_span, BATCH_LIMIT)
    return pages, [str(BATCH_LIMIT)] * full + ([str(rest)] if rest else [])


class InstagramConnector(KitConnector):
    slug: ClassVar[str] = "instagram_business"
    streams = STREAMS
    client_class = GraphClient
    client: GraphClient

    @property
    def user_id(self) -> str:
        return self.ctx.external_id

    async def account_info(self) -> AccountInfo:
        body = await self.client.get(self.user_id, {"fields": "id,username,name"})
        name = str(body.get("username") or body.get("name") or self.user_id)
        return AccountInfo(name=name, timezone=self.ctx.timezone, currency=None)

    # --- template variables ---

    def _period_metrics(self, breakdowns: tuple[str, ...]) -> tuple[str, ...]:
        fields = tuple(
            f
            for f in STREAMS.datasets["account_period"].fields
            if f != "impressions" or has_deprecated_metrics(self.version)
        )
        accepted = STREAMS.datasets["account_period"].extra["metric_breakdowns"]
        return tuple(f for f in fields if set(breakdowns) <= set(accepted.get(f, ())))

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        metrics = {
            "account_daily": lambda: account_series_metrics(self.version),
            "account_period": lambda: self._period_metrics(request.breakdowns),
        }.get(request.dataset, tuple)
        return super().variables(request, stream) | {
            "metrics": ",".join(metrics()),
            "demographics": ",".join(request.breakdowns or ("gender",)),
        }

    # --- fetch: what the answers mean ---

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "account_period" and not self._period_metrics(request.breakdowns):
            raise UpstreamError(
                f"no Instagram account metric supports the breakdown {','.join(request.breakdowns)}"
            )
        if request.dataset == "audience_snapshot" and request.start <= self.today() <= request.end:
            self._check_demographics(request)
        return await super().fetch(request)

    async def run(self, request: FetchRequest, call: Call) -> Answer:
        """An insights read asks again without a metric its answer calls unsupported (a
        deprecated one)."""
        asked = tuple(call.params.get("metric", "").split(","))
        while True:
            try:
                return await super().run(request, call)
            except UpstreamError as exc:
                fewer = without_named(asked, exc.message) if type(exc) is UpstreamError else asked
                if call.operations or not fewer or fewer == asked:
                    raise
                asked = fewer
                call = replace(call, params={**call.params, "metric": ",".join(asked)})

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        today = self.today()
        if request.dataset in ("followers_snapshot", "audience_snapshot"):
            return (
                self._snapshot_result(request, answers[0].body, today) if answers else FetchResult()
            )
        if request.dataset == "online_followers_snapshot":
            return FetchResult(rows=[row for a in answers for row in self._online(a)])
        if request.dataset == "account_period":
            totals: dict[tuple[tuple[str, str], ...], dict[str, Scalar]] = {}
            for answer in answers:
                for key, name, value in self._totals(answer.records, request.breakdowns):
                    totals.setdefault(key, {})[name] = add(totals.get(key, {}).get(name), value)
            return FetchResult(rows=[Row(None, dict(k), v) for k, v in totals.items()])
        values: dict[date, dict[str, Scalar]] = {}
        for answer in answers:
            if answer.call.requester == "series" and answer.call.window:
                for day, point in series(answer.records, *answer.call.window, self.tz).items():
                    numbers = {k: v for k, v in point.items() if is_number(v)}
                    if numbers:
                        values.setdefault(day, {}).update(numbers)
            for op, body in zip(answer.call.operations, answer.operations, strict=True):
                if isinstance(body, UpstreamError):
                    raise body
                for entry in body.get("data") or []:
                    value = single_value(entry)
                    if entry.get("name") == "views" and value is not None and op.window:
                        values.setdefault(op.window[0], {})["views"] = value
        return FetchResult(rows=[Row(day=d, keys={}, values=v) for d, v in sorted(values.items())])

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
    def _totals(
        entries: list[dict[str, Any]], breakdowns: tuple[str, ...]
    ) -> list[tuple[tuple[tuple[str, str], ...], str, Scalar]]:
        out: list[tuple[tuple[tuple[str, str], ...], str, Scalar]] = []
        for entry in entries:
            name = str(entry.get("name"))
            if not breakdowns:
                value = single_value(entry)
                out += [((), name, value)] if value is not None else []
            else:
                out += [(k, name, v) for k, v in breakdown_results(entry.get("total_value") or {})]
        return out

    # --- snapshots ---

    @staticmethod
    def _check_demographics(request: FetchRequest) -> None:
        if set(request.breakdowns) - set(AUDIENCE_BREAKDOWNS) or not request.breakdowns:
            raise UpstreamError(
                "follower_demographics needs a breakdown among age, gender, city, country"
            )

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

    def _snapshot_item(self, request: FetchRequest) -> Call:
        if request.dataset not in ("followers_snapshot", "audience_snapshot"):
            raise UpstreamError(f"{request.dataset} is not a now-only snapshot")
        if request.dataset == "audience_snapshot":
            self._check_demographics(request)
        today = self.today()
        return self.plan(replace(request, start=today, end=today))[0]

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

    # --- objects: posts, reels, stories ---

    def plan_objects(self, request: FetchRequest, estimate: ObjectEstimate) -> list[Call]:
        """List pages and insight batches for `estimate`'s objects (all `estimated`: the
        listing decides). Without an estimate: one page and one batch."""
        first, _ = self.listing(request)
        pages, batches = object_calls(request.dataset, estimate)
        later = replace(first, params={**first.params, "after": "the previous page's cursor"})
        calls = [replace(first if page == 0 else later, estimated=True) for page in range(pages)]
        return calls + [
            Call("batch", method="POST", summary={"operations": ops}, estimated=True)
            for ops in batches
        ]

    async def fetch_objects(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "stories":
            return await self.story_rows(await self.list_stories(request.start, request.end))
        posts: list[dict[str, Any]] = []
        async for item in self._listed(request):
            if "timestamp" not in item:
                continue
            day = local_day(str(item["timestamp"]), self.tz)
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

    async def _listed(self, request: FetchRequest) -> AsyncIterator[dict[str, Any]]:
        call, requester = self.listing(request)
        async for page, _ in self.client.pages(
            "GET", call.path, call.params, requester.paginator, requester.selector
        ):
            for item in page:
                yield item

    async def list_stories(self, start: date, end: date) -> list[dict[str, Any]]:
        """The live stories (the last 24 hours) posted on local days start..end."""
        stories = [
            item
            async for item in self._listed(FetchRequest("stories", start, end))
            if "timestamp" in item and start <= local_day(str(item["timestamp"]), self.tz) <= end
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

    def _metrics_of(self, item: dict[str, Any], product_type: str | None = None) -> tuple[str, ...]:
        return media_metrics(
            self.version,
            str(item.get("media_type") or ""),
            product_type or str(item.get("media_product_type") or "FEED"),
            parse_graph_time(str(item["timestamp"])),
        )

    async def _story_insights_by_ids(
        self, stories: list[dict[str, Any]]
    ) -> dict[str, dict[str, Scalar]] | None:
        if not stories:
            return {}
        groups: dict[tuple[str, ...], list[str]] = {}
        for story in stories:
            groups.setdefault(self._metrics_of(story, "STORY"), []).append(str(story["id"]))
        ops: list[Call] = []
        for metrics, ids in groups.items():
            for start in range(0, len(ids), MAX_IDS):
                chunk = ",".join(ids[start : start + MAX_IDS])
                ops.append(Call("insights", {"ids": chunk, "metric": ",".join(metrics)}))
                ops.append(Call("insights", {"ids": chunk, **NAVIGATION_PARAMS}))
        out: dict[str, dict[str, Scalar]] = {}
        for op, answer in zip(ops, await self.client.batch(ops), strict=True):
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

    def _object_row(self, item: dict[str, Any], values: dict[str, Scalar]) -> ObjectRow:
        created = parse_graph_time(str(item["timestamp"]))
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
