"""The Marketing API emulator: Graph API paths for one ad account, its objects and
insights (routes, parameters and switches: docs/networks/facebook_ads.md). Errors are
Graph error objects; rate limits answer code 80000 (insights) or 17 (other reads) with
the usage headers at 100%.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from metrics_connect.networks.facebook_ads.emulator.data import AdsData
from metrics_connect.networks.facebook_ads.emulator.entities import (
    ACCOUNT,
    ADS,
    ADS_BY_ID,
    ADSETS,
    ADSETS_BY_ID,
    CAMPAIGNS,
    CAMPAIGNS_BY_ID,
    SPEC,
    Ad,
    AdSet,
    Campaign,
)
from metrics_connect.networks.facebook_ads.emulator.insights import (
    InsightsQuery,
    compute_rows,
    estimated_cells,
    format_row,
    parse_query,
    refused,
)
from metrics_connect.sandbox.accounts import FACEBOOK_PAGE_ID
from metrics_connect.sandbox.kit import meta_graph as graph
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.graph_fields import FieldSyntaxError, parse_fields
from metrics_connect.sandbox.kit.meta_graph import GraphError
from metrics_connect.sandbox.kit.meta_graph_app import Call, GraphApp, NoRoute
from metrics_connect.sandbox.kit.paging import decode_offset, graph_offset_page
from metrics_connect.sandbox.kit.spec import load_spec
from metrics_connect.sandbox.kit.templates import fill_present

VERSIONS = graph.graph_versions(graph.LATEST_VERSION, marketing=True)
DEFAULT_LIMIT = 25
# Marketing API out-of-cycle change of 2026-05-08, effective 2026-08-03 (all versions).
OPT_IN_FROM = date(2026, 8, 3)
OPT_IN_BREAKDOWNS = frozenset(
    {"impression_device", "hourly_stats_aggregated_by_audience_time_zone", "frequency_value"}
)
# Insights best practices (2025-06-10): reach and its derived fields are omitted from
# synchronous queries with breakdowns whose start is more than 13 months old.
REACH_BREAKDOWN_MONTHS = 13
REACH_FIELDS = frozenset({"reach", "frequency", "cpp"})
# Fields that exist only for some ad accounts (offline-conversion advertisers).
ACCOUNT_SPECIFIC_FIELDS = frozenset({"adjusted_offline_purchase"})
MAX_LIMIT = 5000


@dataclass
class FacebookAdsSwitches:
    """Emulator-specific switches on top of SandboxControls.switches."""

    # Polls of GET /{report_run_id} before the job completes.
    async_polls_to_complete: int = 2
    # Report runs that end in "Job Failed".
    fail_report_runs: bool = False
    # Synchronous queries heavier than this (ads x days x breakdown cells) are refused
    # with "Please reduce the amount of data you're asking for" (use an async run).
    sync_cell_limit: int = 120_000
    # estimated_time_to_regain_access (minutes) announced while rate limiting.
    regain_access_minutes: int = 0
    # Whether the ad account opted in (Ads Manager) to the breakdowns Meta restricted on
    # 2026-08-03 (OPT_IN_BREAKDOWNS). The demo account, a small non-sales-supported
    # advertiser, has not.
    breakdowns_opted_in: bool = False
    # Insights fields Meta serves only to some ad accounts (ACCOUNT_SPECIFIC_FIELDS) that
    # this one has; the others are refused as invalid, as Meta refuses them.
    account_fields: set[str] = field(default_factory=set)


@dataclass
class ReportRun:
    id: str
    query: InsightsQuery
    time_ref: int  # created at (epoch seconds)
    polls: int = 0
    status: str = "Job Not Started"
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ErrorSpec:
    """A GraphError's arguments (`errors` of data.yaml)."""

    status: int
    code: int
    message: str
    subcode: int | None = None
    transient: bool = False


ERRORS: dict[str, ErrorSpec] = load_spec(__package__, SPEC, "errors", dict[str, ErrorSpec])


OBJECTS: dict[str, dict[str, Any]] = load_spec(
    __package__, SPEC, "objects", dict[str, dict[str, Any]]
)
MEDIA: dict[str, dict[str, Any]] = load_spec(__package__, SPEC, "media", dict[str, dict[str, Any]])
USAGE_HEADERS: dict[str, Any] = load_spec(__package__, SPEC, "usage_headers", dict[str, Any])
REPORT_RUN: dict[str, Any] = load_spec(__package__, SPEC, "report_run", dict[str, Any])


def _selected(kind: str, values: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The asked fields of an object of a kind (`objects` of data.yaml), id first."""
    templates = OBJECTS[kind]
    asked = {name: templates[name] for name in ["id", *fields] if name in templates}
    return dict(fill_present(asked, values))


INSIGHTS_ENDPOINTS = frozenset({"GET insights", "GET report_run/insights", "POST insights (async)"})


class FacebookAdsEmulator(GraphApp):
    """The Marketing API: the Graph family app (sandbox kit) with the ad account's routes."""

    # The Marketing API refuses expired versions (#2635) instead of upgrading them.
    upgrade_expired_versions = False
    trace_header = False
    rate_limit_codes = (80000, 17)

    def __init__(self, controls: SandboxControls | None = None) -> None:
        controls = controls or SandboxControls()
        # No hourly budget of its own: throttling comes from the switches only.
        super().__init__(controls, VERSIONS, controls.clock.now, "facebook_ads", 10**9)
        self.switches = FacebookAdsSwitches()
        self.data = AdsData(self.controls.clock.now)
        self.report_runs: dict[str, ReportRun] = {}
        self._run_ids = itertools.count(6_000_000_000_000_001)
        self._recent_calls: deque[float] = deque()
        self.app = self  # the ASGI app (SandboxNetwork.app)

    # -- the Graph app's hooks --

    def endpoint_name(self, method: str, path: list[str], params: dict[str, str]) -> str:
        if not 1 <= len(path) <= 2:
            raise NoRoute()
        node, edge = path[0], path[1] if len(path) > 1 else None
        if edge == "insights" and method == "POST":
            return "POST insights (async)"
        if method != "GET":
            raise NoRoute(405, "Method Not Allowed")
        if edge is None:
            return "GET report_run" if node in self.report_runs else "GET object"
        if edge == "insights":
            return "GET report_run/insights" if node in self.report_runs else "GET insights"
        return "GET me/adaccounts" if path == ["me", "adaccounts"] else f"GET {edge}"

    def handle(self, call: Call) -> Any:
        node, params = call.path[0], call.params
        url = f"{call.base_url}/{call.version}/{'/'.join(call.path)}"
        if call.path == ["me", "adaccounts"]:
            fields, _ = self._split_fields(params.get("fields"))
            return self._page([self._fields(ACCOUNT, fields or ["name"], [])], url, params)
        if len(call.path) == 1:
            return self._object(node, params)
        if call.path[1] != "insights":
            return self._page(self._edge_objects(node, call.path[1], params), url, params)
        if call.method == "POST":
            return self._start_report_run(node, params)
        return self._sync_insights(node, url, params)

    def token_error(self, fault: TokenFault, endpoint: str) -> GraphError:
        return GraphError(**vars(ERRORS[fault.value]))

    def check_faults(self, endpoint: str) -> None:
        if self.controls.should_rate_limit():
            limited = "insights_rate_limit" if endpoint in INSIGHTS_ENDPOINTS else "rate_limit"
            raise GraphError(**vars(ERRORS[limited]))
        if self.controls.should_fail():
            raise GraphError(**vars(ERRORS["server"]))

    def error_body(self, error: GraphError, trace: str) -> dict[str, Any]:
        # The Marketing API always says whether an error is transient; trace ids are random.
        return error.body(graph.random_fbtrace_id(), always_transient_flag=True)

    def usage_headers(self, version: str, throttled: bool) -> dict[str, str]:
        now = self.controls.clock.now().timestamp()
        self._recent_calls.append(now)
        while self._recent_calls and self._recent_calls[0] < now - 300:
            self._recent_calls.popleft()
        pct = 100 if throttled else min(99, len(self._recent_calls) // 3)
        regain = self.switches.regain_access_minutes if throttled else 0
        values = {"pct": pct, "regain": regain, "regain_seconds": regain * 60}
        values.update({f"pct_{n}": max(pct - n, 0) for n in (3, 5, 10)})
        headers = fill_present(USAGE_HEADERS, values)
        headers["X-Business-Use-Case-Usage"] = {
            ACCOUNT.business_id: [headers["X-Business-Use-Case-Usage"]]
        }
        return {name: json.dumps(value) for name, value in headers.items()}

    # -- objects --

    def _fields(self, obj: Any, fields: list[str], creative: list[str]) -> dict[str, Any]:
        """An object's asked fields (`objects` of data.yaml), by its kind."""
        values = {**vars(obj), "account_id": ACCOUNT.account_id}
        if obj is ACCOUNT:
            kind = "account"
            if "amount_spent" in fields:
                values["amount_spent"] = str(self.data.lifetime_spend())
        elif isinstance(obj, Campaign):
            kind, values["last_day"] = "campaign", obj.stop or obj.start
        elif isinstance(obj, AdSet):
            kind = "adset"
        else:
            kind, values["created"] = "ad", CAMPAIGNS_BY_ID[obj.campaign_id].start
            creative_values = {
                **values,
                "creative_id": str(int(obj.id) + 1_000_000),
                "page_id": FACEBOOK_PAGE_ID,
            }
            creative_values.update(fill_present(MEDIA[obj.media_type], creative_values))
            values["creative"] = _selected("creative", creative_values, creative)
        return _selected(kind, values, fields)

    @staticmethod
    def _split_fields(raw: str | None) -> tuple[list[str], list[str]]:
        """`a,b,creative{x,y}` -> (["a", "b", "creative"], ["x", "y"])."""
        try:
            specs = parse_fields(raw)
        except FieldSyntaxError as exc:
            raise refused("fields_syntax") from exc
        creative = next((s.subfields or () for s in specs if s.name == "creative"), ())
        return [s.name for s in specs], [s.name for s in creative]

    def _object(self, node: str, params: dict[str, str]) -> dict[str, Any]:
        fields, nested = self._split_fields(params.get("fields"))
        if node == ACCOUNT.id:
            return self._fields(ACCOUNT, fields or ["account_id", "name"], nested)
        if node in self.report_runs:
            return self._poll(self.report_runs[node])
        obj = CAMPAIGNS_BY_ID.get(node) or ADSETS_BY_ID.get(node) or ADS_BY_ID.get(node)
        if obj is None:
            raise graph.unknown_object(node)
        return self._fields(obj, fields or ["name"], nested)

    def _edge_objects(self, node: str, edge: str, params: dict[str, str]) -> list[dict[str, Any]]:
        fields, nested = self._split_fields(params.get("fields"))
        if node == ACCOUNT.id or node in CAMPAIGNS_BY_ID or node in ADSETS_BY_ID:
            scope = set(self.data.ads_of(node))
        else:
            raise graph.unknown_object(node)
        statuses = graph.list_param(params, "effective_status") or None
        if edge == "campaigns" and node == ACCOUNT.id:
            listed: tuple[Campaign | AdSet | Ad, ...] = CAMPAIGNS
        elif edge == "adsets" and node not in ADSETS_BY_ID:
            listed = tuple(s for s in ADSETS if any(ADS_BY_ID[a].adset_id == s.id for a in scope))
        elif edge == "ads":
            listed = tuple(a for a in ADS if a.id in scope)
        else:
            raise refused("edge", edge=edge)
        return [
            self._fields(o, fields, nested)
            for o in listed
            if statuses is None or o.status in statuses
        ]

    def _page(
        self, items: list[dict[str, Any]], url: str, params: dict[str, str]
    ) -> dict[str, Any]:
        try:
            limit = min(int(params.get("limit") or DEFAULT_LIMIT), MAX_LIMIT)
            offset = decode_offset(params["after"]) if params.get("after") else 0
            return graph_offset_page(items, offset, limit, url, params)
        except ValueError as exc:  # BadPageRequest too
            raise refused("paging") from exc

    # -- insights --

    def _insights_query(self, node: str, params: dict[str, str]) -> InsightsQuery:
        if node not in (ACCOUNT.id,) and node not in CAMPAIGNS_BY_ID | ADSETS_BY_ID | ADS_BY_ID:
            raise graph.unknown_object(node)
        query = parse_query(node, params, self.data.today())
        for name in query.fields:
            if name in ACCOUNT_SPECIFIC_FIELDS and name not in self.switches.account_fields:
                raise refused("field", name=name)
        return query

    def _sync_insights(self, node: str, url: str, params: dict[str, str]) -> Any:
        if node in self.report_runs:
            run = self.report_runs[node]
            if run.status != "Job Completed":
                raise refused("run_incomplete", run=node, status=run.status)
            return self._page(run.rows, url, params)
        query = self._insights_query(node, params)
        if estimated_cells(self.data, query) > self.switches.sync_cell_limit:
            raise GraphError(**vars(ERRORS["too_much_data"]))
        rows = self._rows(query)
        if query.breakdowns and query.since < self._reach_horizon():
            # Since 2025-06-10 a synchronous query with breakdowns starting more than 13
            # months ago omits reach and the fields computed from it.
            rows = [{k: v for k, v in r.items() if k not in REACH_FIELDS} for r in rows]
        return self._page(rows, url, params)

    def _reach_horizon(self) -> date:
        today = self.controls.clock.now().date()
        return today - timedelta(days=round(REACH_BREAKDOWN_MONTHS * 30.44))

    def _rows(self, query: InsightsQuery) -> list[dict[str, Any]]:
        """Since 2026-08-03 the opt-in breakdowns answer nothing for an ad account that has
        not opted in (in Ads Manager), synchronous or asynchronous."""
        if (
            not self.switches.breakdowns_opted_in
            and self.controls.clock.now().date() >= OPT_IN_FROM
            and OPT_IN_BREAKDOWNS & set(query.breakdowns)
        ):
            return []
        return [format_row(row, query) for row in compute_rows(self.data, query)]

    def _start_report_run(self, node: str, params: dict[str, str]) -> dict[str, Any]:
        query = self._insights_query(node, params)
        run_id = str(next(self._run_ids))
        created = int(self.controls.clock.now().timestamp())
        self.report_runs[run_id] = ReportRun(run_id, query, created)
        return {"report_run_id": run_id}

    def _poll(self, run: ReportRun) -> dict[str, Any]:
        run.polls += 1
        if run.status not in ("Job Completed", "Job Failed"):
            if run.polls >= self.switches.async_polls_to_complete:
                if self.switches.fail_report_runs:
                    run.status = "Job Failed"
                else:
                    run.rows, run.status = self._rows(run.query), "Job Completed"
            else:
                run.status = "Job Running"
        done = run.status in ("Job Completed", "Job Failed")
        percent = 100 if done else round(100 * run.polls / self.switches.async_polls_to_complete)
        values = {"account_id": ACCOUNT.account_id, "percent": percent, "running": not done}
        return dict(fill_present(REPORT_RUN, {**vars(run), **values}))
