"""The Marketing API emulator: Graph API paths for one ad account, its objects and insights.

Endpoints (any `/vNN.N/` version prefix):
- GET  /{v}/me/adaccounts                       ad accounts of the token's user
- GET  /{v}/act_{id}                            account fields (name, currency, timezone_name...)
- GET  /{v}/act_{id}/campaigns|adsets|ads       object lists, cursor paging
- GET  /{v}/{campaign|adset|ad-id}[/adsets|/ads]
- GET  /{v}/act_{id}/insights, /{v}/{object-id}/insights     synchronous insights
- POST /{v}/act_{id}/insights, /{v}/{object-id}/insights     asynchronous report run
- GET  /{v}/{report_run_id}                     async_status, async_percent_completion
- GET  /{v}/{report_run_id}/insights            the report's rows, cursor paging

Errors are Graph API error objects. Faults come from `SandboxControls`: rate limits
answer code 80000 (insights) or 17 (other reads) with the usage headers at 100%;
expired tokens code 190 (subcode 463); revoked permissions code 200.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from metrics_connect.sandbox.accounts import is_sandbox_token
from metrics_connect.sandbox.base import SandboxControls
from metrics_connect.sandbox.facebook_ads.data import AdsData
from metrics_connect.sandbox.facebook_ads.entities import (
    ACCOUNT,
    ADS,
    ADS_BY_ID,
    ADSETS,
    ADSETS_BY_ID,
    CAMPAIGNS,
    CAMPAIGNS_BY_ID,
    Ad,
    AdSet,
    Campaign,
)
from metrics_connect.sandbox.facebook_ads.insights import (
    InsightsError,
    InsightsQuery,
    compute_rows,
    estimated_cells,
    format_row,
    parse_query,
)

VERSION = re.compile(r"^v\d+\.\d+$")
DEFAULT_LIMIT = 25
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


@dataclass
class ReportRun:
    id: str
    query: InsightsQuery
    created: str
    polls: int = 0
    status: str = "Job Not Started"
    rows: list[dict[str, Any]] = field(default_factory=list)


class GraphError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: int,
        subcode: int | None = None,
        error_type: str = "OAuthException",
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "message": message,
            "type": error_type,
            "code": code,
            "is_transient": transient,
            "fbtrace_id": "A" + secrets.token_hex(10),
        }
        if subcode is not None:
            self.body["error_subcode"] = subcode


class FacebookAdsEmulator:
    def __init__(self, controls: SandboxControls | None = None) -> None:
        self.controls = controls or SandboxControls()
        self.switches = FacebookAdsSwitches()
        self.data = AdsData(self.controls.clock.now)
        self.report_runs: dict[str, ReportRun] = {}
        self._run_ids = itertools.count(6_000_000_000_000_001)
        self._recent_calls: deque[float] = deque()
        self.app = self._build_app()

    # -- plumbing --

    def _usage_headers(self, throttled: bool) -> dict[str, str]:
        now = self.controls.clock.now().timestamp()
        self._recent_calls.append(now)
        while self._recent_calls and self._recent_calls[0] < now - 300:
            self._recent_calls.popleft()
        pct = 100 if throttled else min(99, len(self._recent_calls) // 3)
        regain = self.switches.regain_access_minutes if throttled else 0
        return {
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    ACCOUNT.business_id: [
                        {
                            "type": "ads_insights",
                            "call_count": pct,
                            "total_cputime": max(pct - 5, 0),
                            "total_time": max(pct - 3, 0),
                            "estimated_time_to_regain_access": regain,
                            "ads_api_access_tier": "standard_access",
                        }
                    ]
                }
            ),
            "X-Ad-Account-Usage": json.dumps(
                {
                    "acc_id_util_pct": pct,
                    "reset_time_duration": regain * 60,
                    "ads_api_access_tier": "standard_access",
                }
            ),
            "x-fb-ads-insights-throttle": json.dumps(
                {"app_id_util_pct": max(pct - 10, 0), "acc_id_util_pct": pct}
            ),
        }

    async def _params(self, request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method == "POST":
            content_type = request.headers.get("content-type", "")
            if "json" in content_type:
                body = await request.json()
                params.update(
                    {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
                )
            else:
                form = await request.form()
                params.update({k: str(v) for k, v in form.items()})
        return params

    def _check_token(self, request: Request, params: dict[str, str]) -> None:
        token = params.get("access_token")
        auth = request.headers.get("authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if not token:
            raise GraphError(
                400,
                "An active access token must be used to query information about the "
                "current user.",
                2500,
            )
        if token in self.controls.switches.expired_tokens:
            raise GraphError(
                400,
                "Error validating access token: Session has expired on Friday, 01-Jan-2027 "
                "00:00:00 PST. The current time is later.",
                190,
                463,
            )
        if token in self.controls.switches.revoked_tokens:
            raise GraphError(
                403,
                "(#200) Ad account owner has NOT grant ads_management or ads_read permission",
                200,
            )
        if not is_sandbox_token(token):
            raise GraphError(400, "Invalid OAuth access token - Cannot parse access token", 190)

    async def _handle(self, request: Request, endpoint: str, insights: bool, handler: Any) -> Any:
        self.controls.calls.record(f"{request.method} {endpoint}")
        await self.controls.apply_latency()
        throttled = False
        try:
            params = await self._params(request)
            self._check_token(request, params)
            if self.controls.should_rate_limit():
                throttled = True
                if insights:
                    raise GraphError(
                        400,
                        "There have been too many calls from this ad-account. Wait a bit and "
                        "try again. For more info, please refer to "
                        "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
                        80000,
                        2446079,
                        transient=True,
                    )
                raise GraphError(400, "User request limit reached", 17, 2446079, transient=True)
            if self.controls.should_fail():
                raise GraphError(
                    500,
                    "An unexpected error has occurred. Please retry your request later.",
                    2,
                    transient=True,
                )
            body = handler(request, params)
            return JSONResponse(body, headers=self._usage_headers(False))
        except InsightsError as exc:
            error = GraphError(400, exc.message, exc.code, exc.subcode)
            return JSONResponse({"error": error.body}, 400, headers=self._usage_headers(False))
        except GraphError as exc:
            return JSONResponse(
                {"error": exc.body}, exc.status, headers=self._usage_headers(throttled)
            )

    # -- objects --

    @staticmethod
    def _unknown_object(node: str) -> GraphError:
        return GraphError(
            400,
            f"Unsupported get request. Object with ID '{node}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation. Please "
            "read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            100,
            33,
            error_type="GraphMethodException",
        )

    def _account_fields(self, fields: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": ACCOUNT.id,
            "account_id": ACCOUNT.account_id,
            "name": ACCOUNT.name,
            "currency": ACCOUNT.currency,
            "timezone_name": ACCOUNT.timezone_name,
            "timezone_offset_hours_utc": ACCOUNT.timezone_offset_hours_utc,
            "account_status": ACCOUNT.account_status,
            "business_name": ACCOUNT.business_name,
            "created_time": ACCOUNT.created_time,
            # Money fields of the ad account are strings in the currency's minor unit.
            "amount_spent": None,  # computed below, only when asked (a lifetime sum)
            "balance": str(ACCOUNT.balance_cents),
            "spend_cap": str(ACCOUNT.spend_cap_cents),
        }
        if "amount_spent" in fields:
            values["amount_spent"] = str(self.data.lifetime_spend())
        return {k: values[k] for k in ["id", *fields] if k in values}

    @staticmethod
    def _campaign_fields(c: Campaign, fields: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": c.id,
            "name": c.name,
            "objective": c.objective,
            "status": c.status,
            "effective_status": c.status,
            "buying_type": c.buying_type,
            "account_id": ACCOUNT.account_id,
            "start_time": f"{c.start.isoformat()}T09:00:00-0300",
            "created_time": f"{c.start.isoformat()}T08:41:12-0300",
            "updated_time": f"{(c.stop or c.start).isoformat()}T10:02:45-0300",
        }
        if c.stop:
            values["stop_time"] = f"{c.stop.isoformat()}T23:59:00-0300"
        return {k: values[k] for k in ["id", *fields] if k in values}

    @staticmethod
    def _adset_fields(s: AdSet, fields: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": s.id,
            "name": s.name,
            "campaign_id": s.campaign_id,
            "status": s.status,
            "effective_status": s.status,
            "optimization_goal": s.optimization_goal,
            "billing_event": "IMPRESSIONS",
            "account_id": ACCOUNT.account_id,
            "start_time": f"{s.start.isoformat()}T09:00:00-0300",
            "created_time": f"{s.start.isoformat()}T08:45:00-0300",
            "targeting": {
                "age_min": s.age_min,
                "age_max": s.age_max,
                **({"genders": list(s.genders)} if s.genders else {}),
                "geo_locations": {"countries": ["BR", "PT", "US"]},
            },
        }
        if s.end:
            values["end_time"] = f"{s.end.isoformat()}T23:59:00-0300"
        return {k: values[k] for k in ["id", *fields] if k in values}

    @staticmethod
    def _ad_fields(a: Ad, fields: list[str], creative_fields: list[str]) -> dict[str, Any]:
        created = CAMPAIGNS_BY_ID[a.campaign_id].start
        creative = {
            "id": str(int(a.id) + 1_000_000),
            "object_type": {"IMAGE": "PHOTO", "CAROUSEL": "SHARE"}.get(a.media_type, "VIDEO"),
            "url_tags": a.url_tags,
            "link_url": a.link,
            "title": a.name,
        }
        values: dict[str, Any] = {
            "id": a.id,
            "name": a.name,
            "adset_id": a.adset_id,
            "campaign_id": a.campaign_id,
            "status": a.status,
            "effective_status": a.status,
            "account_id": ACCOUNT.account_id,
            "created_time": f"{created.isoformat()}T08:50:00-0300",
            "updated_time": f"{created.isoformat()}T08:50:00-0300",
            "creative": {k: creative[k] for k in ["id", *creative_fields] if k in creative},
        }
        return {k: values[k] for k in ["id", *fields] if k in values}

    @staticmethod
    def _split_fields(raw: str | None) -> tuple[list[str], list[str]]:
        """`a,b,creative{x,y}` -> (["a", "b", "creative"], ["x", "y"])."""
        if not raw:
            return [], []
        nested: list[str] = []
        match = re.search(r"creative\{([^}]*)\}", raw)
        if match:
            nested = [f.strip() for f in match.group(1).split(",") if f.strip()]
            raw = raw.replace(match.group(0), "creative")
        return [f.strip() for f in raw.split(",") if f.strip()], nested

    def _object(self, node: str, params: dict[str, str]) -> dict[str, Any]:
        fields, nested = self._split_fields(params.get("fields"))
        if node == ACCOUNT.id:
            return self._account_fields(fields or ["account_id", "name"])
        if node in CAMPAIGNS_BY_ID:
            return self._campaign_fields(CAMPAIGNS_BY_ID[node], fields or ["name"])
        if node in ADSETS_BY_ID:
            return self._adset_fields(ADSETS_BY_ID[node], fields or ["name"])
        if node in ADS_BY_ID:
            return self._ad_fields(ADS_BY_ID[node], fields or ["name"], nested)
        if node in self.report_runs:
            return self._poll(self.report_runs[node])
        raise self._unknown_object(node)

    def _edge_objects(self, node: str, edge: str, params: dict[str, str]) -> list[dict[str, Any]]:
        fields, nested = self._split_fields(params.get("fields"))
        if node == ACCOUNT.id or node in CAMPAIGNS_BY_ID or node in ADSETS_BY_ID:
            scope = set(self.data.ads_of(node))
        else:
            raise self._unknown_object(node)
        statuses: list[str] | None = None
        if params.get("effective_status"):
            statuses = json.loads(params["effective_status"])
        out: list[dict[str, Any]] = []
        if edge == "campaigns" and node == ACCOUNT.id:
            for c in CAMPAIGNS:
                if statuses is None or c.status in statuses:
                    out.append(self._campaign_fields(c, fields))
        elif edge == "adsets" and node not in ADSETS_BY_ID:
            for s in ADSETS:
                if any(ADS_BY_ID[a].adset_id == s.id for a in scope) and (
                    statuses is None or s.status in statuses
                ):
                    out.append(self._adset_fields(s, fields))
        elif edge == "ads":
            for a in ADS:
                if a.id in scope and (statuses is None or a.status in statuses):
                    out.append(self._ad_fields(a, fields, nested))
        else:
            raise GraphError(400, f"(#100) Tried accessing nonexisting field ({edge})", 100)
        return out

    def _page(
        self, items: list[dict[str, Any]], request: Request, params: dict[str, str]
    ) -> dict[str, Any]:
        try:
            limit = min(int(params.get("limit") or DEFAULT_LIMIT), MAX_LIMIT)
            offset = int(base64.b64decode(params["after"]).decode()) if params.get("after") else 0
        except (ValueError, UnicodeDecodeError) as exc:
            raise GraphError(400, "(#100) Invalid paging cursor or limit", 100) from exc
        page = items[offset : offset + limit]
        body: dict[str, Any] = {"data": page}
        if page:
            cursors = {
                "before": base64.b64encode(str(offset).encode()).decode(),
                "after": base64.b64encode(str(offset + len(page)).encode()).decode(),
            }
            body["paging"] = {"cursors": cursors}
            if offset + len(page) < len(items):
                query = {k: v for k, v in params.items() if k != "access_token"}
                query["after"] = cursors["after"]
                query["limit"] = str(limit)
                base = str(request.url).split("?")[0]
                body["paging"]["next"] = f"{base}?{urlencode(query)}"
        return body

    # -- insights --

    def _insights_query(self, node: str, params: dict[str, str]) -> InsightsQuery:
        if node not in (ACCOUNT.id,) and node not in CAMPAIGNS_BY_ID | ADSETS_BY_ID | ADS_BY_ID:
            raise self._unknown_object(node)
        return parse_query(node, params, self.data.today())

    def _sync_insights(self, node: str, request: Request, params: dict[str, str]) -> Any:
        if node in self.report_runs:
            run = self.report_runs[node]
            if run.status != "Job Completed":
                raise GraphError(
                    400, f"(#100) Report run {node} is not complete ({run.status})", 100
                )
            return self._page(run.rows, request, params)
        query = self._insights_query(node, params)
        if estimated_cells(self.data, query) > self.switches.sync_cell_limit:
            raise GraphError(
                500,
                "Please reduce the amount of data you're asking for, then retry your request",
                1,
                99,
            )
        rows = [format_row(row, query) for row in compute_rows(self.data, query)]
        return self._page(rows, request, params)

    def _start_report_run(self, node: str, params: dict[str, str]) -> dict[str, Any]:
        query = self._insights_query(node, params)
        run_id = str(next(self._run_ids))
        created = self.controls.clock.now()
        self.report_runs[run_id] = ReportRun(run_id, query, str(int(created.timestamp())))
        return {"report_run_id": run_id}

    def _poll(self, run: ReportRun) -> dict[str, Any]:
        run.polls += 1
        if run.status not in ("Job Completed", "Job Failed"):
            if run.polls >= self.switches.async_polls_to_complete:
                if self.switches.fail_report_runs:
                    run.status = "Job Failed"
                else:
                    run.rows = [
                        format_row(r, run.query) for r in compute_rows(self.data, run.query)
                    ]
                    run.status = "Job Completed"
            else:
                run.status = "Job Running"
        done = run.status in ("Job Completed", "Job Failed")
        percent = 100 if done else round(100 * run.polls / self.switches.async_polls_to_complete)
        return {
            "id": run.id,
            "account_id": ACCOUNT.account_id,
            "time_ref": int(run.created),
            "async_status": run.status,
            "async_percent_completion": percent,
            "date_start": run.query.since.isoformat(),
            "date_stop": run.query.until.isoformat(),
            "is_running": not done,
        }

    # -- app --

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Marketing API emulator", docs_url=None, redoc_url=None)

        def check_version(version: str) -> None:
            if not VERSION.match(version):
                raise GraphError(400, f"Unknown path components: /{version}", 2500)

        @app.get("/{version}/me/adaccounts")
        async def me_adaccounts(version: str, request: Request) -> Any:
            def handler(req: Request, params: dict[str, str]) -> Any:
                check_version(version)
                fields, _ = self._split_fields(params.get("fields"))
                return self._page([self._account_fields(fields or ["name"])], req, params)

            return await self._handle(request, "me/adaccounts", False, handler)

        @app.get("/{version}/{node}")
        async def get_object(version: str, node: str, request: Request) -> Any:
            endpoint = "report_run" if node in self.report_runs else "object"

            def handler(req: Request, params: dict[str, str]) -> Any:
                check_version(version)
                return self._object(node, params)

            return await self._handle(request, endpoint, False, handler)

        @app.get("/{version}/{node}/insights")
        async def get_insights(version: str, node: str, request: Request) -> Any:
            endpoint = "report_run/insights" if node in self.report_runs else "insights"

            def handler(req: Request, params: dict[str, str]) -> Any:
                check_version(version)
                return self._sync_insights(node, req, params)

            return await self._handle(request, endpoint, True, handler)

        @app.post("/{version}/{node}/insights")
        async def post_insights(version: str, node: str, request: Request) -> Any:
            def handler(req: Request, params: dict[str, str]) -> Any:
                check_version(version)
                return self._start_report_run(node, params)

            return await self._handle(request, "insights (async)", True, handler)

        @app.get("/{version}/{node}/{edge}")
        async def get_edge(version: str, node: str, edge: str, request: Request) -> Any:
            def handler(req: Request, params: dict[str, str]) -> Any:
                check_version(version)
                return self._page(self._edge_objects(node, edge, params), req, params)

            return await self._handle(request, edge, False, handler)

        app.state.emulator = self
        return app


def create_emulator(controls: SandboxControls | None = None) -> FacebookAdsEmulator:
    return FacebookAdsEmulator(controls)
