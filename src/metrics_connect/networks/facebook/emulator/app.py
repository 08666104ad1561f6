"""The Pages API emulator (graph.facebook.com for one Facebook Page), on the Graph family
app of the sandbox kit: the Page node, Page Insights, published posts and reels with their
insights, Graph batch requests. What it follows is in docs/networks/facebook.md.

- Page edges need a Page access token (`GET /{page-id}?fields=access_token` with the
  user's token gives it); a user token there is refused with code 210.
- `/{page-id}/insights`: the metrics valid after Meta's 2025-2026 retirements (a retired
  or unknown one: "(#100) The value must be a valid insights metric"), periods day,
  week, days_28 and total_over_range, since/until at most 90 days (7,776,000 s) apart,
  two years kept, Pacific days (end_time T07:00/T08:00+0000), complete days only;
  `breakdown=is_from_ads` splits views and viewers into organic ("0") and ads ("1").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from metrics_connect.networks.facebook.emulator.data import PACKAGE, Content, PageData
from metrics_connect.sandbox.accounts import SANDBOX_TOKEN_PREFIX
from metrics_connect.sandbox.kit import meta_graph as graph
from metrics_connect.sandbox.kit.graph_fields import FieldSyntaxError, parse_fields
from metrics_connect.sandbox.kit.graph_insights import (
    check_span,
    insight_entry,
    parse_instant,
    window_paging,
)
from metrics_connect.sandbox.kit.graph_nodes import render_node
from metrics_connect.sandbox.kit.meta_graph import GraphError, graph_time
from metrics_connect.sandbox.kit.meta_graph_app import Call, GraphApp, NoRoute
from metrics_connect.sandbox.kit.paging import (
    BadPageRequest,
    decode_offset,
    graph_offset_page,
    parse_limit,
)
from metrics_connect.sandbox.kit.spec import load_spec

PAGE_TOKEN_PREFIX = SANDBOX_TOKEN_PREFIX + "page-"
MAX_DAYS = 90
KEPT_DAYS = 2 * 365
# Edges of the Page, and of a post or a reel, by the call counter's name.
PAGE_EDGES = {
    "insights": "page_insights",
    "published_posts": "published_posts",
    "posts": "published_posts",
    "video_reels": "video_reels",
}
OBJECT_EDGES = {"insights": "post_insights", "video_insights": "reel_insights"}
PERIOD_DAYS = {"day": 1, "week": 7, "days_28": 28}
PAGE_METRICS: dict[str, list[str]] = load_spec(
    PACKAGE, "data.yaml", "page_metrics", dict[str, list[str]]
)
POST_METRICS, REEL_METRICS, BY_ADS = (
    set(load_spec(PACKAGE, "data.yaml", key, list[str]))
    for key in ("post_metrics", "reel_metrics", "by_ads")
)


def page_token(page_id: str, user_token: str) -> str:
    """The Page access token the emulator gives for a user's token (stable)."""
    digest = hashlib.sha256(user_token.encode()).hexdigest()[:16]
    return f"{PAGE_TOKEN_PREFIX}{page_id}-{digest}"


def invalid_metric() -> GraphError:
    return graph.invalid_parameter("The value must be a valid insights metric")


class PageGraphApp(GraphApp):
    def __init__(self, data: PageData, controls: Any, now: Callable[[], datetime]) -> None:
        super().__init__(
            controls, graph.graph_versions(), now, trace_seed=data.seed, hourly_budget=20_000
        )
        self.data = data

    # --- the family app's hooks ---

    def endpoint_name(self, method: str, path: list[str], params: dict[str, str]) -> str:
        if method != "GET" or not path:
            raise NoRoute(405 if path else 404)
        if path == [self.data.page_id]:
            return "page"
        edge = path[1] if len(path) > 1 else ""
        if path[0] == self.data.page_id and edge in PAGE_EDGES:
            return PAGE_EDGES[edge]
        if edge in OBJECT_EDGES and len(path) <= 3:
            return OBJECT_EDGES[edge]
        raise NoRoute()

    def usage_headers(self, version: str, throttled: bool) -> dict[str, str]:
        usage = self.usage_report("pages", throttled)
        return {
            "x-app-usage": json.dumps({k: usage[k] for k in ("call_count", "total_time")}),
            "x-business-use-case-usage": json.dumps({self.data.page_id: [usage]}),
            **graph.version_header(version),
        }

    def handle(self, call: Call) -> Any:
        endpoint = self.endpoint_name(call.method, call.path, call.params)
        wants_token = endpoint == "page" and "access_token" in call.params.get("fields", "")
        if not wants_token and not call.token.startswith(PAGE_TOKEN_PREFIX):
            raise GraphError(400, 210, "(#210) This call requires a Page access token.")
        if endpoint == "page":
            return self.page_node(call)
        if endpoint == "page_insights":
            return self.page_insights(call)
        if endpoint in ("published_posts", "video_reels"):
            return self.listing(call, "post" if endpoint == "published_posts" else "reel")
        return self.content_insights(call, endpoint == "reel_insights")

    # --- the Page node ---

    def page_node(self, call: Call) -> dict[str, Any]:
        today = self.data.days.day_of(self.now())
        node: dict[str, Any] = {
            "id": self.data.page_id,
            "name": self.data.name,
            "category": self.data.page.category,
            "followers_count": self.data.followers(today),
            "fan_count": self.data.likes(today),
        }
        wanted = [f.name for f in self._fields(call, "id,name")]
        if "access_token" in wanted:
            if call.token.startswith(PAGE_TOKEN_PREFIX):
                raise graph.invalid_parameter("A user access token is required to request this")
            node["access_token"] = page_token(self.data.page_id, call.token)
        for name in wanted:
            if name not in node:
                raise graph.nonexisting_field(name, "Page")
        return {k: node[k] for k in ["id", *wanted] if k in node}

    @staticmethod
    def _fields(call: Call, default: str) -> list[Any]:
        try:
            return parse_fields(call.params.get("fields") or default)
        except FieldSyntaxError as exc:
            raise graph.invalid_parameter("Syntax error in the fields parameter") from exc

    # --- Page Insights ---

    def _days(self, call: Call) -> tuple[datetime, datetime, list[date]]:
        days = self.data.days
        tz = days.tz
        today = days.day_of(self.now())
        # Without since/until: the last two complete days.
        raw = {k: call.params.get(k) for k in ("since", "until")}
        until = days.day_start(today)
        until = parse_instant(raw["until"], "until", days.day_start, tz) if raw["until"] else until
        since = until - timedelta(days=2)
        since = parse_instant(raw["since"], "since", days.day_start, tz) if raw["since"] else since
        if until < since:
            raise graph.invalid_parameter("The since parameter must be before until")
        check_span(since, until, MAX_DAYS)
        first = max(days.day_of(since), self.data.page.start, today - timedelta(days=KEPT_DAYS))
        out = []
        day = first
        while days.day_end(day) <= until and day < today:
            if days.day_start(day) >= since:
                out.append(day)
            day += timedelta(days=1)
        return since, until, out

    def page_insights(self, call: Call) -> dict[str, Any]:
        metrics = graph.list_param(call.params, "metric") or call.path[2:3]
        if not metrics:
            raise GraphError(
                400,
                3001,
                "No metric was specified to be fetched. Please specify "
                "one or more metrics to be fetched and try again.",
                subcode=1504028,
            )
        period = call.params.get("period", "day")
        breakdown = call.params.get("breakdown", "")
        for metric in metrics:
            if metric not in PAGE_METRICS:
                raise invalid_metric()
            if period not in PAGE_METRICS[metric]:
                raise graph.invalid_parameter(f"The period {period} is not valid for {metric}")
            if breakdown and (breakdown != "is_from_ads" or metric not in BY_ADS):
                raise graph.invalid_parameter(
                    f"The breakdown {breakdown} is not valid for {metric}"
                )
        since, until, days = self._days(call)
        data = []
        for metric in metrics:
            span = PERIOD_DAYS.get(period, 1)  # a day's value covers the `span` days to it
            ranges = [
                (self.data.days.day_end(d), [d - timedelta(i) for i in range(span)]) for d in days
            ]
            if period == "total_over_range":
                ranges = [(until, days)] if days else []
            points = [(t, self.value(metric, covered, breakdown)) for t, covered in ranges]
            values = [{"value": v, "end_time": graph_time(t)} for t, v in points]
            title = metric.replace("_", " ").title()
            data.append(
                insight_entry(self.data.page_id, metric, period, title, metric, "values", values)
            )
        base = f"{call.base_url}/{call.version}/{self.data.page_id}/insights"
        return {"data": data, "paging": window_paging(base, call.params, since, until)}

    def value(self, metric: str, days: list[date], breakdown: str) -> Any:
        """A metric over days (a day, a week, 28 days, the range)."""
        d = self.data
        last = max(days)
        if metric == "page_follows":
            return d.followers(last)
        if metric in ("page_follows_city", "page_follows_country"):
            return d.located(metric.rsplit("_", 1)[1], last)
        if metric == "page_total_media_view_unique":
            parts = d.unique_viewers(days)
        elif metric == "page_media_view":
            parts = {k: sum(d.views(x)[k] for x in days) for k in ("total", "0", "1")}
        else:
            return sum(self._daily(metric, x) for x in days)
        return {"0": parts["0"], "1": parts["1"]} if breakdown else parts["total"]

    def _daily(self, metric: str, day: date) -> int:
        d = self.data
        if metric.startswith("page_video_views"):
            return d.video_views(day)[metric.removeprefix("page_video_views").strip("_") or "total"]
        series = {
            "page_daily_follows_unique": "follows",
            "page_daily_unfollows_unique": "unfollows",
            "page_post_engagements": "post_engagements",
            "page_messages_new_conversations_unique": "messages_new",
            "page_messages_reported_conversations_unique": "messages_reported",
        }
        return d.daily(series[metric], day)

    # --- posts and reels ---

    def listing(self, call: Call, kind: str) -> dict[str, Any]:
        items = self.data.published(kind, self.now())
        try:
            limit = parse_limit(call.params.get("limit"), 25, 100)
            offset = decode_offset(call.params["after"]) if call.params.get("after") else 0
        except BadPageRequest as exc:
            raise graph.invalid_parameter("Invalid cursor or limit") from exc
        fields = self._fields(call, "id,created_time,message" if kind == "post" else "id")
        rows = [self.content_node(c, fields) for c in items]
        return graph_offset_page(rows, offset, limit, call.url, call.params)

    def content_node(self, item: Content, fields: list[Any]) -> dict[str, Any]:
        figures = item.at(self.now())
        reactions = sum(self.data.reaction_counts(figures).values())
        summary = {"data": [], "summary": {"total_count": 0}}
        known: dict[str, Any] = {
            "id": item.id,
            "created_time": graph_time(item.created),
            "message": item.message,
            "description": item.message,
            "permalink_url": f"https://www.facebook.com/{item.id.replace('_', '/posts/')}",
            "status_type": item.status_type,
            "shares": {"count": figures["shares"]},
            "comments": {**summary, "summary": {"total_count": figures["comments"]}},
            "reactions": {**summary, "summary": {"total_count": reactions}},
        }
        out = render_node(fields, known, "Post" if item.kind == "post" else "Video")
        out.setdefault("id", item.id)
        return out

    def content_insights(self, call: Call, reel: bool) -> dict[str, Any]:
        item = self.data.content(call.path[0])
        if item is None or (item.kind == "reel") != reel or item.created > self.now():
            raise graph.unknown_object(call.path[0])
        metrics = graph.list_param(call.params, "metric") or call.path[2:3]
        served = REEL_METRICS if reel else POST_METRICS
        if not metrics or any(m not in served for m in metrics):
            raise invalid_metric()
        breakdown = bool(call.params.get("breakdown"))
        if breakdown and (call.params["breakdown"] != "is_from_ads" or set(metrics) - BY_ADS):
            raise graph.invalid_parameter("The breakdown is not valid for these metrics")
        f = item.at(self.now())
        reactions = self.data.reaction_counts(f)
        values: dict[str, Any] = {
            "post_total_media_view_unique": {"0": f["reach_organic"], "1": f["reach_paid"]}
            if breakdown
            else f["reach"],
            "post_media_view": {"0": f["views"] - f["views_paid"], "1": f["views_paid"]}
            if breakdown
            else f["views"],
            "post_reactions_by_type_total": {k: n for k, n in reactions.items() if n},
            "post_clicks": f["clicks"],
            "post_video_views": f["video_views"],
            "blue_reels_play_count": f["plays"],
            "post_video_avg_time_watched": f["avg_watch_ms"],
            "post_video_view_time": f["plays"] * f["avg_watch_ms"],
            "post_video_likes_by_reaction_type": {
                f"REACTION_{k.upper()}": n for k, n in reactions.items() if n
            },
            "post_video_social_actions": {"COMMENT": f["comments"], "SHARE": f["shares"]},
        }
        data = []
        for metric in metrics:
            title = metric.replace("_", " ").title()
            value = [{"value": values[metric]}]
            data.append(insight_entry(item.id, metric, "lifetime", title, metric, "values", value))
        return {"data": data}
