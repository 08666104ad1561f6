"""The emulated Pinterest API v5 for ads (its `/v5` paths), from its reference:

- GET  /v5/ad_accounts                                 ad accounts (bookmark paging)
- GET  /v5/ad_accounts/{id}                            one ad account
- GET  /v5/ad_accounts/{id}/analytics                  account analytics
- GET  /v5/ad_accounts/{id}/{campaigns|ad_groups|ads}/analytics   by entity ids
- GET  /v5/ad_accounts/{id}/{campaigns|ad_groups|ads}  entity lists (bookmark paging)
- POST /v5/ad_accounts/{id}/reports                    an asynchronous report (JSON body)
- GET  /v5/ad_accounts/{id}/reports?token=             its status, then its download URL

Synchronous analytics reach back 90 days (UTC) over at most 90 days; reports reach back
914 days over at most 186 days (granularity other than HOUR, which the sandbox does not
serve). Errors are Pinterest's `{"code", "message"}`: 401 code 2 (missing, unknown or
expired token), 403 code 29 (revoked grant, foreign ad account), 400 code 1 (bad
parameters), 429 code 8 with X-RateLimit-Remaining 0 and X-RateLimit-Reset, 503.
Every answer carries X-RateLimit-Limit and X-RateLimit-Remaining. Call-counter names:
ad_accounts.list, ad_accounts.get, analytics.<level>, <entity>.list, reports.create; a
report's polls and download (reports.get, reports.download) count in `followups`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from metrics_connect.networks.pinterest_ads.emulator import data
from metrics_connect.sandbox.kit.controls import CallCounter, SandboxControls, TokenFault
from metrics_connect.sandbox.kit.json_rest import credential

SYNC_DAYS_BACK, SYNC_MAX_DAYS = 90, 90
REPORT_DAYS_BACK, REPORT_MAX_DAYS = 914, 186
RATE_LIMIT = 1000  # calls a minute per user and app (the sandbox's figure)
WINDOWS = {0, 1, 7, 14, 30, 60}
GRANULARITIES = {"TOTAL", "DAY", "WEEK", "MONTH"}
ENTITY_LEVELS = {"campaigns": "CAMPAIGN", "ad_groups": "AD_GROUP", "ads": "AD"}
ENTITY_IDS = {"campaigns": "campaign_ids", "ad_groups": "ad_group_ids", "ads": "ad_ids"}


class PinterestError(Exception):
    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"code": self.code, "message": self.message}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def bad(message: str) -> PinterestError:
    return PinterestError(400, 1, f"Invalid parameters. {message}")


@dataclass
class Report:
    account_id: str
    body: dict[str, Any]
    polls: int = 0


@dataclass
class PinterestAdsEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    reports: dict[str, Report] = field(default_factory=dict)
    followups: CallCounter = field(default_factory=CallCounter)

    def today(self) -> date:
        return self.controls.clock.now().date()  # Pinterest's analytics days are UTC


def parse_day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise bad(f"{name} must be a date YYYY-MM-DD.") from None


def span(values: dict[str, Any], today: date, back: int, longest: int) -> tuple[date, date]:
    start, end = (
        parse_day(values.get("start_date"), "start_date"),
        parse_day(values.get("end_date"), "end_date"),
    )
    if end < start:
        raise bad("end_date must not be before start_date.")
    if start < today - timedelta(days=back):
        raise bad(f"start_date cannot be more than {back} days back from today.")
    if (end - start).days + 1 > longest:
        raise bad(f"The date range cannot be longer than {longest} days.")
    return start, end


def columns_of(raw: Any) -> list[str]:
    columns = raw if isinstance(raw, list) else str(raw or "").split(",")
    columns = [str(c).strip() for c in columns if str(c).strip()]
    entity = {"CAMPAIGN_NAME", "CAMPAIGN_OBJECTIVE_TYPE", "AD_GROUP_NAME", "AD_NAME"}
    unknown = [c for c in columns if c not in data.SERVED | entity]
    if not columns or unknown:
        raise bad(f"Unknown columns: {', '.join(unknown) or '(none)'}.")
    return columns


def options(values: dict[str, Any]) -> str:
    for name in ("click_window_days", "engagement_window_days", "view_window_days"):
        if name in values and int(values[name]) not in WINDOWS:
            raise bad(f"{name} must be one of {sorted(WINDOWS)}.")
    granularity = str(values.get("granularity") or "")
    if granularity not in GRANULARITIES:
        raise bad(f"granularity {granularity!r} is not one of {sorted(GRANULARITIES)}.")
    return granularity


def create_app(emulator: PinterestAdsEmulator) -> FastAPI:
    app = FastAPI(title="Pinterest API v5 (sandbox)", docs_url=None, redoc_url=None)
    controls = emulator.controls

    async def gate(
        request: Request, endpoint: str, account_id: str | None = None, planned: bool = True
    ) -> None:
        # A report's polls are follow-ups of its creation (explain lists the creation):
        # counted apart, in `followups`.
        (controls.calls if planned else emulator.followups).record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(credential(request, "X-Unused"))
        if fault is TokenFault.REVOKED:
            raise PinterestError(403, 29, "You are not permitted to access that resource.")
        if fault is not None:
            raise PinterestError(401, 2, "Authentication failed.")
        if controls.should_rate_limit():
            wait = str(controls.switches.retry_after_seconds)
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": wait}
            message = "You have exceeded your rate limit. Try again later."
            raise PinterestError(429, 8, message, headers)
        if controls.should_fail():
            raise PinterestError(503, 0, "Something went wrong on our end. Sorry about that.")
        if account_id is not None and data.account(account_id) is None:
            raise PinterestError(403, 29, "You are not permitted to access that resource.")

    @app.middleware("http")
    async def rate_limit_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-RateLimit-Limit"] = str(RATE_LIMIT)
        response.headers.setdefault(
            "X-RateLimit-Remaining", str(RATE_LIMIT - controls.calls.total % RATE_LIMIT)
        )
        return response

    @app.exception_handler(PinterestError)
    async def pinterest_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PinterestError)
        return exc.response()

    def page(request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
        size = int(request.query_params.get("page_size") or 25)
        if not 1 <= size <= 250:
            raise bad("page_size must be between 1 and 250.")
        offset = int(request.query_params.get("bookmark") or 0)
        following = offset + size
        return {
            "items": items[offset:following],
            "bookmark": str(following) if following < len(items) else None,
        }

    @app.get("/v5/ad_accounts")
    async def list_accounts(request: Request) -> dict[str, Any]:
        await gate(request, "ad_accounts.list")
        return page(request, [account_json(a) for a in data.ACCOUNTS])

    @app.get("/v5/ad_accounts/{account_id}")
    async def get_account(account_id: str, request: Request) -> dict[str, Any]:
        await gate(request, "ad_accounts.get", account_id)
        found = data.account(account_id)
        assert found is not None
        return account_json(found)

    @app.get("/v5/ad_accounts/{account_id}/analytics")
    async def account_analytics(account_id: str, request: Request) -> list[dict[str, Any]]:
        await gate(request, "analytics.ADVERTISER", account_id)
        values = dict(request.query_params)
        start, end = span(values, emulator.today(), SYNC_DAYS_BACK, SYNC_MAX_DAYS)
        granularity = options(values)
        columns = columns_of(values.get("columns"))
        return data.analytics(account_id, "ADVERTISER", start, end, granularity, columns)

    @app.get("/v5/ad_accounts/{account_id}/{entity}/analytics")
    async def entity_analytics(
        account_id: str, entity: str, request: Request
    ) -> list[dict[str, Any]]:
        level = ENTITY_LEVELS.get(entity)
        if level is None:
            raise PinterestError(404, 3, "Resource not found.")
        await gate(request, f"analytics.{level}", account_id)
        values = dict(request.query_params)
        ids = {i for i in str(values.get(ENTITY_IDS[entity]) or "").split(",") if i}
        if not 1 <= len(ids) <= 250:
            raise bad(f"{ENTITY_IDS[entity]} takes 1 to 250 ids.")
        start, end = span(values, emulator.today(), SYNC_DAYS_BACK, SYNC_MAX_DAYS)
        granularity = options(values)
        columns = columns_of(values.get("columns"))
        return data.analytics(account_id, level, start, end, granularity, columns, ids)

    @app.post("/v5/ad_accounts/{account_id}/reports")
    async def create_report(account_id: str, request: Request) -> dict[str, Any]:
        await gate(request, "reports.create", account_id)
        try:
            body = await request.json()
        except ValueError:
            raise bad("The body must be JSON.") from None
        if not isinstance(body, dict):
            raise bad("The body must be a JSON object.")
        span(body, emulator.today(), REPORT_DAYS_BACK, REPORT_MAX_DAYS)
        options(body)
        columns_of(body.get("columns"))
        if str(body.get("level")) not in data.LEVELS:
            raise bad(f"level must be one of {', '.join(data.LEVELS)}.")
        if str(body.get("report_format") or "JSON") != "JSON":
            raise bad("The sandbox writes JSON reports only.")
        token = f"sandbox-report-{len(emulator.reports) + 1}"
        emulator.reports[token] = Report(account_id, body)
        return {"report_status": "IN_PROGRESS", "token": token, "message": None}

    @app.get("/v5/ad_accounts/{account_id}/reports")
    async def get_report(account_id: str, request: Request) -> dict[str, Any]:
        await gate(request, "reports.get", account_id, planned=False)
        report = emulator.reports.get(str(request.query_params.get("token")))
        if report is None or report.account_id != account_id:
            return {"report_status": "DOES_NOT_EXIST", "url": None, "size": None}
        report.polls += 1
        if report.polls < 2:  # a report is ready at its second look
            return {"report_status": "IN_PROGRESS", "url": None, "size": None}
        token = request.query_params["token"]
        url = f"{str(request.base_url).rstrip('/')}/sandbox/ad-reports/{token}.json"
        return {"report_status": "FINISHED", "url": url, "size": 1024.0}

    @app.get("/v5/ad_accounts/{account_id}/{entity}")
    async def list_entities(account_id: str, entity: str, request: Request) -> dict[str, Any]:
        if entity not in ENTITY_LEVELS:
            raise PinterestError(404, 3, "Resource not found.")
        await gate(request, f"{entity}.list", account_id)
        items = [
            entity_json(entity, c, g, a) for c, g, a in data.ads_of(data.delivering(account_id))
        ]
        unique = list({item["id"]: item for item in items}.values())
        return page(request, unique)

    @app.get("/sandbox/ad-reports/{token}.json")
    async def download(token: str) -> dict[str, list[dict[str, Any]]]:
        """The report file (a signed storage URL in production: no token asked)."""
        emulator.followups.record("reports.download")
        report = emulator.reports.get(token)
        if report is None:
            raise PinterestError(404, 3, "Resource not found.")
        body = report.body
        columns = columns_of(body["columns"])
        start, end = date.fromisoformat(body["start_date"]), date.fromisoformat(body["end_date"])
        rows = data.analytics(
            report.account_id, str(body["level"]), start, end, str(body["granularity"]), columns
        )
        out: dict[str, list[dict[str, Any]]] = {}
        id_column = {
            "ADVERTISER": "AD_ACCOUNT_ID",
            "CAMPAIGN": "CAMPAIGN_ID",
            "AD_GROUP": "AD_GROUP_ID",
            "KEYWORD": "KEYWORD_ID",
        }.get(str(body["level"]), "AD_ID")
        for row in rows:
            out.setdefault(str(row[id_column]), []).append(row)
        return out

    return app


def account_json(account: data.Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "owner": {"username": "acmecoffee", "id": "1100000000000000001"},
        "country": account.country,
        "currency": account.currency,
        "permissions": ["OWNER"],
        "created_time": 1685577600,
        "updated_time": 1700000000,
    }


def entity_json(
    entity: str, campaign: data.Campaign, group: data.AdGroup, ad: data.Ad
) -> dict[str, Any]:
    status = {"status": "ACTIVE" if campaign.end is None else "PAUSED"}
    if entity == "campaigns":
        return {"id": campaign.id, "name": campaign.name, **status}
    parent = {"campaign_id": campaign.id, **status}
    if entity == "ad_groups":
        return {"id": group.id, "name": group.name, **parent}
    return {"id": ad.id, "name": ad.name, "ad_group_id": group.id, **parent}
