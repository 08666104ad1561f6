"""The Graph API's Instagram surface, as a function from a parsed call to a JSON body.

Both the HTTP app and batch requests go through `GraphHandler.handle`, so a call answers
the same way whether it comes alone, in a batch, or through `?ids=`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from metrics_connect.networks.instagram_business.emulator.metrics import (
    ACCOUNT_METRICS,
    DEMOGRAPHIC_METRICS,
    IMPRESSIONS_KEPT_UNTIL,
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
from metrics_connect.sandbox.kit.graph_fields import (
    FieldSpec,
    FieldSyntaxError,
    parse_fields,
    unparse_fields,
)
from metrics_connect.sandbox.kit.graph_insights import (
    joint_results,
    metric_header,
    newest_first_bounds,
    parse_instant,
    window_paging,
)
from metrics_connect.sandbox.kit.meta_graph import LATEST_VERSION, GraphError, docs_link, graph_time
from metrics_connect.sandbox.kit.meta_graph_app import Call
from metrics_connect.sandbox.kit.paging import BadPageRequest, decode_key, encode_key, url_with
from metrics_connect.sandbox.kit.seeded import apportion_map, between
from metrics_connect.sandbox.kit.spec import load_spec

DEFAULT_VERSION = LATEST_VERSION
OLDEST_VERSION = 17
MAX_DAY_WINDOW = timedelta(days=30)
MAX_IDS = 50
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
PAGE_KEYS = ("after", "before")
DEMOGRAPHICS_TOP = 45
CDN = "https://scontent.cdninstagram.com/v"
# The account's owner: the Facebook user, their Page and the Instagram profile.
OWNER: dict[str, Any] = load_spec(__package__, "data.yaml", "owner", dict[str, Any])


def _media_key(item: MediaItem) -> tuple[int, str]:
    return int(item.timestamp.timestamp()), item.id


def _media_cursor(item: MediaItem) -> str:
    stamp, media_id = _media_key(item)
    return encode_key(f"{stamp}:{media_id}")


def _cursor_key(cursor: str) -> tuple[int, str]:
    """A cursor's position; positions stay valid when the item itself has gone (a story)."""
    try:
        stamp, _, media_id = decode_key(cursor).partition(":")
    except BadPageRequest:
        stamp = media_id = ""
    if not stamp.isdigit() or not media_id:
        raise errors.invalid_parameter("Invalid cursor")
    return int(stamp), media_id


class GraphHandler:
    def __init__(self, sandbox: InstagramSandbox) -> None:
        self.sandbox = sandbox
        # Apply Meta's all-versions sunset dates of deprecated metrics (by the sandbox clock)
        # on top of the per-version removals, as Graph does. Turn off to see exactly a
        # version's documented metrics, whatever the clock says.
        self.enforce_sunsets = True

    # ----------------------------------------------------------- deprecations
    def _sunset_passed(self, sunset: date | None) -> bool:
        return self.enforce_sunsets and sunset is not None and self.sandbox.today() >= sunset

    def _account_available(self, spec: AccountMetric, major: int) -> bool:
        if spec.removed_in is not None:
            return major < spec.removed_in and not self._sunset_passed(spec.sunset)
        return True

    def _time_series_removed(self, spec: AccountMetric, major: int) -> bool:
        if spec.time_series_removed_in is None:
            return False
        return major >= spec.time_series_removed_in or self._sunset_passed(spec.sunset)

    def _media_available(self, spec: MediaMetric, major: int, item: MediaItem) -> bool:
        if spec.removed_in is None:
            return True
        if major >= spec.removed_in:
            return False
        if not self._sunset_passed(spec.sunset):
            return True
        # After the sunset, v21.0 and older keep impressions of media created until 2024-07-01.
        return (
            spec.name == "impressions"
            and major <= 21
            and self.sandbox.local_day(item.timestamp) <= IMPRESSIONS_KEPT_UNTIL
        )

    def _check_metric(
        self,
        index: int,
        name: str,
        spec: AccountMetric | MediaMetric | None,
        usable: bool,
        available: list[str],
        queried: str,
    ) -> None:
        """Refuse a metric this version does not serve. Only between its removal (in v21.0
        or later) and the all-versions sunset does Graph name the metric; otherwise it
        answers the list of the metrics it serves."""
        if usable:
            return
        if spec and (spec.removed_in or 0) >= 21 and not self._sunset_passed(spec.sunset):
            raise errors.invalid_parameter(
                f"Starting from version {spec.removed_in} and above, the {name} metric is no "
                f"longer supported for the queried {queried}. Please refer to the documentation at "
                f"{docs_link(f'instagram-api/reference/ig-{queried}/insights')} for a list of "
                "supported metrics."
            )
        raise errors.invalid_parameter(
            f"metric[{index}] must be one of the following values: {', '.join(available)}"
        )

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
                return self._render_page(call, self._fields(params, ("name", "id")))
            raise errors.unknown_path(edge)
        if node == self.sandbox.user_id:
            if edge is None:
                return self._render_user(call, self._fields(params, ("id",)))
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
                return self._render_media(call, item, self._fields(params, ("id",)))
            if edge == "insights":
                return self._media_insights(item, params, call.major)
            if edge == "children":
                return {"data": [{"id": c} for c in item.children]}
            raise errors.nonexisting_field(edge, "IGMedia")
        child = self.sandbox.find_child(node)
        if child is not None and self._visible(child[0]):
            album, position = child
            if edge is None:
                return self._render_child(album, node, self._fields(params, ("id",)))
            if edge == "insights":
                raise GraphError(
                    400, 10, "(#10) Insights data is not available for media within an album"
                )
            raise errors.nonexisting_field(edge, "IGMedia")
        raise errors.unknown_object(node)

    def _multi(self, call: Call, edge: str | None) -> dict[str, Any]:
        ids = errors.list_param(call.params, "ids")
        if len(ids) > MAX_IDS:
            raise errors.invalid_parameter(
                f"Too many IDs. Maximum: {MAX_IDS}. Provided: {len(ids)}."
            )
        params = {k: v for k, v in call.params.items() if k != "ids"}
        missing = [i for i in ids if not self._exists(i)]
        if missing:
            raise GraphError(
                404,
                803,
                f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}",
            )
        return {i: self._route(call, i, edge, params) for i in ids}

    def _exists(self, node: str) -> bool:
        if node in ("me", FACEBOOK_USER_ID, FACEBOOK_PAGE_ID, self.sandbox.user_id):
            return True
        child = self.sandbox.find_child(node)
        return self._media_or_none(node) is not None or (
            child is not None and self._visible(child[0])
        )

    def _fields(self, params: dict[str, str], default: tuple[str, ...]) -> list[FieldSpec]:
        try:
            parsed = parse_fields(params.get("fields"))
        except FieldSyntaxError as exc:
            raise errors.invalid_parameter(f"Syntax error in fields: {exc}") from exc
        return parsed or [FieldSpec(name) for name in default]

    # ------------------------------------------------ the Page and its user side
    def _render_fb_user(self, params: dict[str, str]) -> dict[str, Any]:
        values = {"id": FACEBOOK_USER_ID, "name": OWNER["user_name"]}
        return _render(self._fields(params, ("name", "id")), values, "User")

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
        return _render(specs, values, "Page")

    def _accounts(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        specs = self._fields(
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
        return _render(specs, values, "IGUser")

    def _user_insights(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        names = errors.list_param(params, "metric")
        if not names:
            raise errors.invalid_parameter("The parameter metric is required")
        available = [
            m.name for m in ACCOUNT_METRICS.values() if self._account_available(m, call.major)
        ]
        specs: list[AccountMetric] = []
        for index, name in enumerate(names):
            spec = ACCOUNT_METRICS.get(name)
            self._check_metric(index, name, spec, name in available, available, "user")
            assert spec is not None
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
                if not (s.time_series or s.lifetime) or self._time_series_removed(s, call.major)
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
            body["paging"] = self._window_paging(call, params, since, until)
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
        if until - since > MAX_DAY_WINDOW:
            raise errors.invalid_parameter(
                "There cannot be more than 30 days (2592000 s) between since and until"
            )
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
        """A metric's answer: its header, its `values` or `total_value`, its id."""
        body = metric_header(spec.name, period, spec.title, spec.description)
        body[key] = value
        body["id"] = f"{self.sandbox.user_id}/insights/{spec.name}/{period}"
        return body

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

    def _window_paging(
        self, call: Call, params: dict[str, str], since: datetime, until: datetime
    ) -> dict[str, str]:
        return window_paging(
            f"{call.base_url}/{call.version}/{'/'.join(call.path)}", params, since, until
        )

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
        return {"data": [body], "paging": self._window_paging(call, params, since, until)}

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
        try:
            limit = max(1, min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT))
        except ValueError as exc:
            raise errors.invalid_parameter("limit must be an integer") from exc
        # Items are newest first: "after" walks to older ones, "before" back to newer ones.
        after, before = (_cursor_key(params[k]) if params.get(k) else None for k in PAGE_KEYS)
        start, end = newest_first_bounds([_media_key(m) for m in items], after, before, limit)
        page = items[start:end]
        specs = self._fields(params, ("id",))
        body: dict[str, Any] = {"data": [self._render_media(call, m, specs) for m in page]}
        if not page:
            return body
        cursors = {"before": _media_cursor(page[0]), "after": _media_cursor(page[-1])}
        body["paging"] = {"cursors": cursors}
        base = f"{call.base_url}/{call.version}/{self.sandbox.user_id}/{edge}"
        query = {k: v for k, v in params.items() if k not in PAGE_KEYS}
        query["access_token"] = call.token
        query.setdefault("limit", str(DEFAULT_LIMIT))
        if end < len(items):
            body["paging"]["next"] = url_with(base, query, after=cursors["after"])
        if start > 0:
            body["paging"]["previous"] = url_with(base, query, before=cursors["before"])
        return body

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
        return _render(specs, values, "IGMedia")

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
        return _render(specs, values, "IGMedia")

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
            usable = spec is not None and self._media_available(spec, major, item)
            self._check_metric(index, name, spec, usable, available, "media")
            assert spec is not None
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


def _render(specs: list[FieldSpec], values: dict[str, Any], node_type: str) -> dict[str, Any]:
    """The requested fields of a node, in order: a callable value is called with the
    field's spec (lazy or parametrised fields); a None value leaves the field out."""
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.name not in values:
            raise errors.nonexisting_field(spec.name, node_type)
        value = values[spec.name]
        value = value(spec) if callable(value) else value
        if value is not None:
            out[spec.name] = value
    return out
