"""The Graph API's Instagram surface, as a function from a parsed call to a JSON body.

Both the HTTP app and batch requests go through `GraphHandler.handle`, so a call answers
the same way whether it comes alone, in a batch, or through `?ids=`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from metrics_connect.networks.instagram_business.emulator.metrics import (
    ACCOUNT_METRICS,
    DEMOGRAPHIC_METRICS,
    LEGACY_TIMEFRAMES,
    MEDIA_METRICS,
    TIMEFRAMES,
    AccountMetric,
    MediaMetric,
)
from metrics_connect.networks.instagram_business.emulator.model import (
    ACCOUNT_INSIGHTS_RETENTION,
    INSIGHTS_RETENTION,
    InstagramSandbox,
    MediaItem,
)
from metrics_connect.sandbox.accounts import (
    FACEBOOK_PAGE_ID,
    FACEBOOK_PAGE_NAME,
    FACEBOOK_USER_ID,
    SANDBOX_TOKEN_PREFIX,
)
from metrics_connect.sandbox.kit import meta_graph as errors
from metrics_connect.sandbox.kit.graph_fields import FieldSpec, unparse_fields
from metrics_connect.sandbox.kit.graph_insights import (
    check_span,
    insight_entry,
    joint_results,
    parse_instant,
    window_paging,
)
from metrics_connect.sandbox.kit.graph_metrics import MetricRetirements
from metrics_connect.sandbox.kit.graph_nodes import (
    multi_ids,
    newest_first_page,
    render_node,
    requested_fields,
)
from metrics_connect.sandbox.kit.meta_graph import LATEST_VERSION, GraphError, graph_time
from metrics_connect.sandbox.kit.meta_graph_app import Call
from metrics_connect.sandbox.kit.paging import encode_key
from metrics_connect.sandbox.kit.seeded import apportion_map, between
from metrics_connect.sandbox.kit.spec import load_spec

DEFAULT_VERSION = LATEST_VERSION
OLDEST_VERSION = 17
MAX_DAY_WINDOW = timedelta(days=30)
DEMOGRAPHICS_TOP = 45
CDN = "https://scontent.cdninstagram.com/v"
# The account's owner: the Facebook user, their Page and the Instagram profile.
OWNER: dict[str, Any] = load_spec(__package__, "data.yaml", "owner", dict[str, Any])


def _media_key(item: MediaItem) -> tuple[int, str]:
    return int(item.timestamp.timestamp()), item.id


class GraphHandler(MetricRetirements):
    """Meta's all-versions sunset dates of deprecated metrics apply (by the sandbox clock)
    on top of the per-version removals, as Graph does; `enforce_sunsets = False` shows
    exactly a version's documented metrics, whatever the clock says."""

    def __init__(self, sandbox: InstagramSandbox) -> None:
        super().__init__(sandbox.today)
        self.sandbox = sandbox

    def _media_available(self, spec: MediaMetric, major: int, item: MediaItem) -> bool:
        if self.serves(spec.removed_in, spec.sunset, major):
            return True
        # After the sunset, some versions keep the metric for media created until a day.
        kept = spec.kept_after_sunset
        return (
            kept is not None
            and major <= kept.through_version
            and self.sandbox.local_day(item.timestamp) <= kept.created_until
        )

    def _refusal(
        self,
        index: int,
        name: str,
        spec: AccountMetric | MediaMetric | None,
        available: list[str],
        queried: str,
    ) -> GraphError:
        removed_in, sunset = (spec.removed_in, spec.sunset) if spec else (None, None)
        page = f"instagram-api/reference/ig-{queried}/insights"
        return self.refusal(index, name, removed_in, sunset, available, queried, page)

    # --------------------------------------------------------------- routing
    def endpoint_name(self, path: list[str], params: dict[str, str]) -> str:
        """The name the call counter records a call under."""
        if not path:
            return "multi_id" if "ids" in params else "root"
        head = path[0]
        edge = path[1] if len(path) > 1 else None
        if "ids" in params and len(path) == 1 and head not in ("me",):
            return f"multi_id_{head}"
        if head in ("me", FACEBOOK_USER_ID):
            return "me_accounts" if edge == "accounts" else "me"
        if head == FACEBOOK_PAGE_ID:
            return "page"
        if head == self.sandbox.user_id:
            names = {None: "user", "insights": "user_insights", "media": "media_list"}
            return names.get(edge, "stories" if edge == "stories" else f"user_{edge}")
        return {None: "media", "insights": "media_insights"}.get(edge, f"media_{edge}")

    def handle(self, call: Call) -> Any:
        if call.method not in ("GET",):
            raise errors.invalid_parameter(f"Unsupported {call.method} request.")
        path, params = call.path, call.params
        if not path:
            if "ids" in params:
                return self._multi(call, None)
            raise errors.unknown_path("")
        if "ids" in params and len(path) == 1 and path[0] != "me":
            return self._multi(call, path[0])
        if len(path) > 2:
            raise errors.unknown_path("/".join(path[2:]))
        return self._route(call, path[0], path[1] if len(path) > 1 else None, params)

    def _route(self, call: Call, node: str, edge: str | None, params: dict[str, str]) -> Any:
        if node in ("me", FACEBOOK_USER_ID):
            if edge is None:
                return self._render_fb_user(params)
            if edge == "accounts":
                return self._accounts(call, params)
            raise errors.unknown_path(edge)
        if node == FACEBOOK_PAGE_ID:
            if edge is None:
                return self._render_page(call, requested_fields(params, ("name", "id")))
            raise errors.unknown_path(edge)
        if node == self.sandbox.user_id:
            if edge is None:
                return self._render_user(call, requested_fields(params, ("id",)))
            if edge == "insights":
                return self._user_insights(call, params)
            if edge == "media":
                return self._media_list(call, params)
            if edge == "stories":
                return self._stories(call, params)
            raise errors.nonexisting_field(edge, "IGUser")
        item = self._media_or_none(node)
        if item is not None:
            if edge is None:
                return self._render_media(call, item, requested_fields(params, ("id",)))
            if edge == "insights":
                return self._media_insights(item, params, call.major)
            if edge == "children":
                return {"data": [{"id": c} for c in item.children]}
            raise errors.nonexisting_field(edge, "IGMedia")
        child = self.sandbox.find_child(node)
        if child is not None and self._visible(child[0]):
            album, position = child
            if edge is None:
                return self._render_child(album, node, requested_fields(params, ("id",)))
            if edge == "insights":
                raise GraphError(
                    400, 10, "(#10) Insights data is not available for media within an album"
                )
            raise errors.nonexisting_field(edge, "IGMedia")
        raise errors.unknown_object(node)

    def _multi(self, call: Call, edge: str | None) -> dict[str, Any]:
        return multi_ids(call.params, self._exists, lambda i, p: self._route(call, i, edge, p))

    def _exists(self, node: str) -> bool:
        if node in ("me", FACEBOOK_USER_ID, FACEBOOK_PAGE_ID, self.sandbox.user_id):
            return True
        child = self.sandbox.find_child(node)
        return self._media_or_none(node) is not None or (
            child is not None and self._visible(child[0])
        )

    # ------------------------------------------------ the Page and its user side
    def _render_fb_user(self, params: dict[str, str]) -> dict[str, Any]:
        values = {"id": FACEBOOK_USER_ID, "name": OWNER["user_name"]}
        return render_node(requested_fields(params, ("name", "id")), values, "User")

    def _render_page(self, call: Call, specs: list[FieldSpec]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": FACEBOOK_PAGE_ID,
            "name": FACEBOOK_PAGE_NAME,
            **OWNER["page"],
            "access_token": SANDBOX_TOKEN_PREFIX + "page-" + FACEBOOK_PAGE_ID,
            "instagram_business_account": lambda spec: (
                self._render_user(call, list(spec.subfields))
                if spec.subfields
                else {"id": self.sandbox.user_id}
            ),
        }
        return render_node(specs, values, "Page")

    def _accounts(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        specs = requested_fields(
            params, ("access_token", "category", "category_list", "name", "id", "tasks")
        )
        cursor = encode_key(FACEBOOK_PAGE_ID)
        return {
            "data": [self._render_page(call, specs)],
            "paging": {"cursors": {"before": cursor, "after": cursor}},
        }

    # ------------------------------------------------------------- ig user
    def _render_user(self, call: Call, specs: list[FieldSpec]) -> dict[str, Any]:
        sandbox = self.sandbox

        def edge(spec: FieldSpec) -> dict[str, Any]:
            params = dict(spec.modifiers)
            if spec.subfields:
                params["fields"] = unparse_fields(spec.subfields)
            if spec.name == "media":
                return self._media_list(call, params)
            return self._stories(call, params)

        values: dict[str, Any] = {
            "id": sandbox.user_id,
            **OWNER["profile"],
            "username": sandbox.username,
            "name": FACEBOOK_PAGE_NAME,
            "profile_picture_url": f"{CDN}/{sandbox.user_id}_profile.jpg",
            "followers_count": lambda _: sandbox.followers_count(),
            "follows_count": lambda _: 312 + sandbox.followers_count() // 400,
            "media_count": lambda _: len(sandbox.media()),
            "media": edge,
            "stories": edge,
        }
        return render_node(specs, values, "IGUser")

    def _user_insights(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        names = errors.list_param(params, "metric")
        if not names:
            raise errors.invalid_parameter("The parameter metric is required")
        available = [
            m.name
            for m in ACCOUNT_METRICS.values()
            if self.serves(m.removed_in, m.sunset, call.major)
        ]
        specs: list[AccountMetric] = []
        for index, name in enumerate(names):
            spec = ACCOUNT_METRICS.get(name)
            if spec is None or name not in available:
                raise self._refusal(index, name, spec, available, "user")
            specs.append(spec)
        periods = errors.list_param(params, "period")  # the SDK sends ["day"]
        if not periods:
            raise errors.invalid_parameter("The parameter period is required")
        period = periods[0]
        lifetime = [s.name for s in specs if s.lifetime]
        if lifetime and len(lifetime) != len(specs):
            raise errors.invalid_parameter(
                "If requesting multiple metrics, they must all have the same compatible period"
            )
        wanted_period = "lifetime" if lifetime else "day"
        if period != wanted_period:
            raise errors.invalid_parameter(
                f"Incompatible period {period} for metrics: {', '.join(names)}; "
                f"use period={wanted_period}"
            )
        metric_type = params.get("metric_type", "time_series")
        if metric_type not in ("time_series", "total_value"):
            raise errors.invalid_parameter("metric_type must be one of: time_series, total_value")
        breakdowns = errors.list_param(params, "breakdown")
        if any(s.name in DEMOGRAPHIC_METRICS for s in specs):
            return self._demographics(call, specs, params, metric_type, breakdowns)
        if metric_type == "time_series":
            if breakdowns:
                raise errors.invalid_parameter(
                    "breakdown is only supported with metric_type=total_value"
                )
            needs_total = [
                s.name
                for s in specs
                if not (s.time_series or s.lifetime)
                or not self.serves(s.time_series_removed_in, s.sunset, call.major)
            ]
            if needs_total:
                raise errors.invalid_parameter(
                    f"The following metrics ({', '.join(needs_total)}) should be specified with "
                    "parameter metric_type=total_value"
                )
        else:
            no_total = [s.name for s in specs if not s.total_value]
            if no_total:
                raise errors.invalid_parameter(
                    f"metric_type=total_value is not supported for: {', '.join(no_total)}"
                )
            for spec in specs:
                for b in breakdowns:
                    if b not in spec.breakdowns:
                        raise errors.invalid_parameter(
                            f"The breakdown {b} is not supported for metric {spec.name}; "
                            f"supported: {', '.join(spec.breakdowns) or 'none'}"
                        )
        since, until = self._window(params)
        if lifetime:
            return self._online_followers(call, params, since, until)
        data = [
            self._total_value(spec, since, until, breakdowns)
            if metric_type == "total_value"
            else self._time_series(spec, since, until)
            for spec in specs
        ]
        data = [d for d in data if d is not None]
        body: dict[str, Any] = {"data": data}
        if metric_type == "time_series":
            body["paging"] = window_paging(call.url, params, since, until)
        return body

    def _window(self, params: dict[str, str]) -> tuple[datetime, datetime]:
        sandbox = self.sandbox
        now = sandbox.now()
        if "since" not in params and "until" not in params:
            # Documented default: a two-day range, yesterday through today.
            today = sandbox.today()
            return sandbox.day_start(today - timedelta(days=1)), sandbox.day_end(today)
        until = self._instant(params["until"], "until") if "until" in params else now
        since = (
            self._instant(params["since"], "since") if "since" in params else until - MAX_DAY_WINDOW
        )
        if since >= until:
            raise errors.invalid_parameter("The since timestamp must be before the until timestamp")
        check_span(since, until, MAX_DAY_WINDOW.days)
        if since < now - ACCOUNT_INSIGHTS_RETENTION:
            raise errors.invalid_parameter(
                "Account insights are only available for the last 90 days: since must be on "
                f"or after {graph_time(now - ACCOUNT_INSIGHTS_RETENTION)}"
            )
        return since, until

    def _instant(self, raw: str, name: str) -> datetime:
        return parse_instant(raw, name, self.sandbox.day_start, self.sandbox.tz)

    def _days_in(self, since: datetime, until: datetime) -> list[date]:
        """Local days overlapping [since, until) that have started and the account lived."""
        sandbox = self.sandbox
        now = sandbox.now()
        out, day = [], max(sandbox.local_day(since), sandbox.created)
        while sandbox.day_start(day) < until and sandbox.day_start(day) < now:
            if sandbox.day_end(day) > since:
                out.append(day)
            day += timedelta(days=1)
        return out

    def _metric_body(
        self, spec: AccountMetric, period: str, key: str, value: Any
    ) -> dict[str, Any]:
        return insight_entry(
            self.sandbox.user_id, spec.name, period, spec.title, spec.description, key, value
        )

    def _time_series(self, spec: AccountMetric, since: datetime, until: datetime) -> dict[str, Any]:
        sandbox = self.sandbox
        days = self._days_in(since, until)
        if spec.name == "follower_count":
            today = sandbox.today()
            if since < sandbox.day_start(today - timedelta(days=30)):
                raise errors.invalid_parameter(
                    "follower_count is only available for the last 30 days, excluding the "
                    "current day"
                )
            days = [d for d in days if d < today]
        values = [
            {"value": sandbox.daily_value(spec.name, d), "end_time": graph_time(sandbox.day_end(d))}
            for d in days
        ]
        return self._metric_body(spec, "day", "values", values)

    def _total_value(
        self, spec: AccountMetric, since: datetime, until: datetime, breakdowns: list[str]
    ) -> dict[str, Any] | None:
        sandbox = self.sandbox
        days = self._days_in(since, until)
        if not days:
            return None
        first, last = days[0], days[-1]
        total = sandbox.period_total(spec.name, first, last)
        assert isinstance(total, int)
        total_value: dict[str, Any] = {"value": total}
        if breakdowns:
            marginals = []
            for b in breakdowns:
                model_key = "follow_type" if b == "follower_type" else b
                parts = sandbox.period_total(spec.name, first, last, breakdown=model_key)
                assert isinstance(parts, dict)
                marginals.append(parts)
            total_value["breakdowns"] = [
                {"dimension_keys": breakdowns, "results": joint_results(total, marginals)}
            ]
        return self._metric_body(spec, "day", "total_value", total_value)

    def _online_followers(
        self, call: Call, params: dict[str, str], since: datetime, until: datetime
    ) -> dict[str, Any]:
        sandbox = self.sandbox
        today = sandbox.today()
        spec = ACCOUNT_METRICS["online_followers"]
        values = []
        for day in self._days_in(since, until):
            if day >= today:
                continue
            hours = sandbox.online_followers(day) if day >= today - timedelta(days=30) else {}
            values.append(
                {
                    "value": {str(h): n for h, n in hours.items()},
                    "end_time": graph_time(sandbox.day_end(day)),
                }
            )
        body = self._metric_body(spec, "lifetime", "values", values)
        return {"data": [body], "paging": window_paging(call.url, params, since, until)}

    def _demographics(
        self,
        call: Call,
        specs: list[AccountMetric],
        params: dict[str, str],
        metric_type: str,
        breakdowns: list[str],
    ) -> dict[str, Any]:
        if metric_type != "total_value":
            raise errors.invalid_parameter(
                f"The following metrics ({', '.join(s.name for s in specs)}) should be specified "
                "with parameter metric_type=total_value"
            )
        allowed = TIMEFRAMES if call.major >= 20 else TIMEFRAMES + LEGACY_TIMEFRAMES
        timeframe = params.get("timeframe")
        if timeframe is None or timeframe not in allowed:
            raise errors.invalid_parameter(
                f"Incorrect timeframe. timeframe must be one of: {', '.join(allowed)}"
            )
        if not breakdowns:
            raise errors.invalid_parameter(
                "breakdown is required for demographic metrics: one of age, city, country, gender"
            )
        for b in breakdowns:
            if b not in ("age", "city", "country", "gender"):
                raise errors.invalid_parameter(
                    f"The breakdown {b} is not supported; supported: age, city, country, gender"
                )
        return {"data": [self._demographic(s, breakdowns, timeframe) for s in specs]}

    def _demographic(
        self, spec: AccountMetric, breakdowns: list[str], timeframe: str
    ) -> dict[str, Any]:
        sandbox = self.sandbox
        if spec.name == "follower_demographics":
            marginals = [sandbox.demographics(b) for b in breakdowns]
            total = sum(marginals[0].values())
        else:
            metric = "reach" if spec.name == "reached_audience_demographics" else "accounts_engaged"
            today = sandbox.today()
            first = (
                today - timedelta(days=today.weekday())
                if timeframe == "this_week"
                else today.replace(day=1)
            )
            if first >= today:
                first = today - timedelta(days=1)
            total_raw = sandbox.period_total(metric, first, today - timedelta(days=1))
            assert isinstance(total_raw, int)
            total = total_raw
            marginals = []
            for b in breakdowns:
                shares = sandbox.demographics(b)
                weights = {
                    n: share * between(0.8, 1.2, sandbox.seed, spec.name, b, n)
                    for n, share in shares.items()
                }
                marginals.append(apportion_map(total, weights))
        results = joint_results(total, marginals)
        results.sort(key=lambda r: r["value"], reverse=True)
        top = results[:DEMOGRAPHICS_TOP]
        breakdown = {"breakdowns": [{"dimension_keys": breakdowns, "results": top}]}
        return self._metric_body(spec, "lifetime", "total_value", breakdown)

    # -------------------------------------------------------------- media
    def _visible(self, item: MediaItem) -> bool:
        return item.is_live(self.sandbox.now())

    def _media_or_none(self, media_id: str) -> MediaItem | None:
        item = self.sandbox.find_media(media_id)
        if item is None or not self._visible(item):
            return None
        return item

    def _media_list(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        since = self._instant(params["since"], "since") if "since" in params else None
        until = self._instant(params["until"], "until") if "until" in params else None
        items = self.sandbox.media(since, until)
        return self._page(call, "media", items, params)

    def _stories(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        return self._page(call, "stories", self.sandbox.live_stories(), params)

    def _page(
        self, call: Call, edge: str, items: list[MediaItem], params: dict[str, str]
    ) -> dict[str, Any]:
        def render(page: Sequence[MediaItem]) -> list[dict[str, Any]]:
            specs = requested_fields(params, ("id",))
            return [self._render_media(call, m, specs) for m in page]

        edge_url = f"{call.base_url}/{call.version}/{self.sandbox.user_id}/{edge}"
        return newest_first_page(items, _media_key, params, edge_url, call.token, render)

    def _render_media(self, call: Call, item: MediaItem, specs: list[FieldSpec]) -> dict[str, Any]:
        now = self.sandbox.now()
        story = item.is_story

        def children(spec: FieldSpec) -> dict[str, Any] | None:
            sub = list(spec.subfields) if spec.subfields else [FieldSpec("id")]
            data = [self._render_child(item, c, sub) for c in item.children]
            return {"data": data} if data else None

        values: dict[str, Any] = {
            "id": item.id,
            "caption": item.caption or None,
            "media_type": item.media_type,
            "media_product_type": item.media_product_type,
            "media_url": item.media_url,
            "thumbnail_url": item.thumbnail_url,
            "permalink": item.permalink,
            "shortcode": item.shortcode,
            "timestamp": graph_time(item.timestamp),
            "username": self.sandbox.username,
            "owner": {"id": self.sandbox.user_id},
            "is_comment_enabled": not story,
            "like_count": lambda _: None if story else item.insights_at(now)["likes"],
            "comments_count": lambda _: None if story else item.insights_at(now)["comments"],
            "children": children,
            "insights": lambda spec: self._media_insights(item, dict(spec.modifiers), call.major),
        }
        return render_node(specs, values, "IGMedia")

    def _render_child(
        self, album: MediaItem, child_id: str, specs: list[FieldSpec]
    ) -> dict[str, Any]:
        values = {
            "id": child_id,
            "media_type": "IMAGE",
            "media_url": f"{CDN}/{child_id}.jpg",
            "timestamp": graph_time(album.timestamp),
            "permalink": album.permalink,
            "username": self.sandbox.username,
        }
        return render_node(specs, values, "IGMedia")

    def _media_insights(
        self, item: MediaItem, params: dict[str, str], major: int
    ) -> dict[str, Any]:
        names = errors.list_param(params, "metric")
        if not names:
            raise errors.invalid_parameter("The parameter metric is required")
        product = item.media_product_type
        available = [
            m.name
            for m in MEDIA_METRICS.values()
            if product in m.products and self._media_available(m, major, item)
        ]
        for index, name in enumerate(names):
            spec = MEDIA_METRICS.get(name)
            if spec is None or not self._media_available(spec, major, item):
                raise self._refusal(index, name, spec, available, "media")
            if product not in spec.products:
                raise errors.invalid_parameter(
                    f"The metric {name} is not supported for this media type ({product})"
                )
        breakdowns = errors.list_param(params, "breakdown")
        for b in breakdowns:
            for name in names:
                if MEDIA_METRICS[name].breakdown != b:
                    raise errors.invalid_parameter(
                        f"The breakdown {b} is not supported for metric {name}"
                    )
        now = self.sandbox.now()
        if now - item.timestamp > INSIGHTS_RETENTION:
            return {"data": []}  # insights are kept for two years
        values = item.insights_at(now)
        parts = item.breakdowns_at(now)
        data = []
        for name in names:
            spec = MEDIA_METRICS[name]
            entry: dict[str, Any] = {"name": name, "period": "lifetime"}
            if breakdowns:
                results = joint_results(values[name], [parts[name]])
                entry["total_value"] = {
                    "value": values[name],
                    "breakdowns": [{"dimension_keys": breakdowns, "results": results}],
                }
            else:
                entry["values"] = [{"value": values[name]}]
            entry["title"] = spec.title
            entry["id"] = f"{item.id}/insights/{name}/lifetime"
            data.append(entry)
        return {"data": data}
