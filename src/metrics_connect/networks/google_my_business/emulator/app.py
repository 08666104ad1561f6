"""The emulated Google Business Profile APIs, one host serving each API's paths:

- Business Profile Performance API v1 (businessprofileperformance.googleapis.com):
  GET /v1/locations/{id}:fetchMultiDailyMetricsTimeSeries
  GET /v1/locations/{id}/searchkeywords/impressions/monthly
- My Business API v4 (mybusiness.googleapis.com): GET /v4/accounts/{a}/locations/{l}/reviews
  and .../localPosts
- Account Management API v1 (mybusinessaccountmanagement.googleapis.com): GET /v1/accounts
- Business Information API v1 (mybusinessbusinessinformation.googleapis.com):
  GET /v1/accounts/{a}/locations and GET /v1/locations/{l} (readMask required)

Query parameters follow Google's gRPC transcoding: repeated fields repeat the parameter,
nested messages are dotted (`dailyRange.startDate.year`; snake_case accepted too). Errors
use Google's envelope (sandbox kit `google`); the shared controls inject latency, 429
RESOURCE_EXHAUSTED, 503, and expired (401) or revoked (403) tokens.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams

from metrics_connect.networks.google_my_business.emulator.data import ProfileData
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.google import (
    GoogleError,
    answer_unknown_paths,
    bearer_token,
    token_error,
)
from metrics_connect.sandbox.kit.paging import BadPageRequest, page_token_page

PERMISSION_MESSAGE = "The caller does not have permission"
RATE_LIMIT_MESSAGE = (
    "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service "
    "'businessprofileperformance.googleapis.com'."
)
MAX_REVIEWS_PAGE = 50
MAX_KEYWORDS_PAGE = 100
MAX_ACCOUNTS_PAGE = 20
MAX_POSTS_PAGE = 100
KEYWORD_THRESHOLD = 15


def _param(query: QueryParams, camel: str) -> str | None:
    """A dotted parameter in camelCase or its snake_case spelling."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return query.get(camel) or query.get(snake)


def _int(query: QueryParams, name: str) -> int:
    text = _param(query, name)
    if text is None or not text.lstrip("-").isdigit():
        raise GoogleError(f"Invalid value at '{name}' ({text!r}): a number is required.")
    return int(text)


def _date(query: QueryParams, prefix: str) -> date:
    try:
        return date(
            _int(query, f"{prefix}.year"),
            _int(query, f"{prefix}.month"),
            _int(query, f"{prefix}.day"),
        )
    except ValueError:
        raise GoogleError(
            f"Request contains an invalid argument: {prefix} is not a date."
        ) from None


def _page_size(query: QueryParams, largest: int) -> int:
    text = query.get("pageSize")
    if text is None:
        return largest
    if not text.isdigit() or int(text) < 1:
        raise GoogleError(f"Invalid value at 'page_size' ({text!r}).")
    return min(int(text), largest)


def _paged(items: list[Any], query: QueryParams, largest: int, key: str) -> dict[str, Any]:
    """A page of `items` under `key`, with nextPageToken while more remain."""
    try:
        return page_token_page(items, query.get("pageToken"), _page_size(query, largest), key)
    except BadPageRequest:
        raise GoogleError("Request contains an invalid argument: page_token.") from None


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _google_date(day: date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def create_app(data: ProfileData, controls: SandboxControls) -> FastAPI:
    app = FastAPI(title="Google Business Profile APIs (sandbox)", docs_url=None, redoc_url=None)

    async def gate(request: Request, endpoint: str) -> None:
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(bearer_token(request))
        if fault is not None:
            raise token_error(fault, PERMISSION_MESSAGE)
        if controls.should_fail():
            raise GoogleError("The service is currently unavailable.", 503)
        if controls.should_rate_limit():
            raise GoogleError(RATE_LIMIT_MESSAGE, 429)

    def own_location(location_id: str) -> None:
        if location_id != data.location.id:
            raise GoogleError(PERMISSION_MESSAGE, 403)

    @app.exception_handler(GoogleError)
    async def refused(request: Request, exc: GoogleError) -> JSONResponse:
        return exc.response()

    @app.get("/v1/locations/{location_id}:fetchMultiDailyMetricsTimeSeries")
    async def fetch_multi(location_id: str, request: Request) -> JSONResponse:
        await gate(request, "fetchMultiDailyMetricsTimeSeries")
        own_location(location_id)
        query = request.query_params
        metrics = query.getlist("dailyMetrics") or query.getlist("daily_metrics")
        if not metrics:
            raise GoogleError("Request contains an invalid argument: daily_metrics is required.")
        unknown = [m for m in metrics if m not in data.metrics]
        if unknown:
            raise GoogleError(
                f"Invalid value at 'daily_metrics' ({unknown[0]}): not a DailyMetric."
            )
        start = _date(query, "dailyRange.startDate")
        end = _date(query, "dailyRange.endDate")
        if end < start:
            raise GoogleError("Request contains an invalid argument: end_date before start_date.")
        now = controls.clock.now()
        if start < data.first_kept_day(now):
            raise GoogleError(
                "Request contains an invalid argument: start_date is more than "
                f"{data.location.kept_months} months in the past."
            )
        days = [date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1)]
        series = []
        for metric in metrics:
            dated = []
            for day in days:
                value = data.daily_value(metric, day, now)
                # Days without a figure (too recent) or with zero carry the date only.
                entry: dict[str, Any] = {"date": _google_date(day)}
                if value:
                    entry["value"] = str(value)
                dated.append(entry)
            series.append({"dailyMetric": metric, "timeSeries": {"datedValues": dated}})
        return JSONResponse({"multiDailyMetricTimeSeries": [{"dailyMetricTimeSeries": series}]})

    @app.get("/v1/locations/{location_id}/searchkeywords/impressions/monthly")
    async def keywords(location_id: str, request: Request) -> JSONResponse:
        await gate(request, "searchkeywords.impressions.monthly.list")
        own_location(location_id)
        query = request.query_params
        first = (
            _int(query, "monthlyRange.startMonth.year"),
            _int(query, "monthlyRange.startMonth.month"),
        )
        last = (
            _int(query, "monthlyRange.endMonth.year"),
            _int(query, "monthlyRange.endMonth.month"),
        )
        if last < first:
            raise GoogleError("Request contains an invalid argument: end_month before start_month.")
        months = []
        year, month = first
        while (year, month) <= last:
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        counts = []
        for keyword in data.keywords:
            total = sum(data.keyword_impressions(keyword, y, m) for y, m in months)
            value = {"value": str(total)} if total >= KEYWORD_THRESHOLD else {"threshold": "15"}
            counts.append({"searchKeyword": keyword, "insightsValue": value})
        return JSONResponse(_paged(counts, query, MAX_KEYWORDS_PAGE, "searchKeywordsCounts"))

    @app.get("/v4/accounts/{account_id}/locations/{location_id}/reviews")
    async def reviews(account_id: str, location_id: str, request: Request) -> JSONResponse:
        await gate(request, "reviews.list")
        own_location(location_id)
        if f"accounts/{account_id}" != data.account.name:
            raise GoogleError(PERMISSION_MESSAGE, 403)
        written = data.reviews(controls.clock.now())
        body = _paged(written, request.query_params, MAX_REVIEWS_PAGE, "reviews")
        stars = ["STAR_RATING_UNSPECIFIED", "ONE", "TWO", "THREE", "FOUR", "FIVE"]
        body["reviews"] = [
            {
                "name": f"{data.account_location}/reviews/{r.review_id}",
                "reviewId": r.review_id,
                "starRating": stars[r.star_rating],
                "createTime": f"{r.created.isoformat()}T12:00:00Z",
                "updateTime": f"{r.created.isoformat()}T12:00:00Z",
            }
            for r in body["reviews"]
        ]
        body["totalReviewCount"] = len(written)
        if written:
            body["averageRating"] = round(sum(r.star_rating for r in written) / len(written), 1)
        return JSONResponse(body)

    @app.get("/v4/accounts/{account_id}/locations/{location_id}/localPosts")
    async def local_posts(account_id: str, location_id: str, request: Request) -> JSONResponse:
        await gate(request, "localPosts.list")
        own_location(location_id)
        if f"accounts/{account_id}" != data.account.name:
            raise GoogleError(PERMISSION_MESSAGE, 403)
        posts = data.local_posts(controls.clock.now())
        body = _paged(posts, request.query_params, MAX_POSTS_PAGE, "localPosts")
        body["localPosts"] = [
            {
                "name": f"{data.account_location}/localPosts/{p.post_id}",
                "languageCode": "pt-BR",
                "summary": p.summary,
                "state": "LIVE",
                "topicType": p.topic_type,
                "createTime": _rfc3339(p.created),
                "updateTime": _rfc3339(p.updated),
                "searchUrl": f"https://local.google.com/place?id={data.location.id}&use=posts&lpsid={p.post_id}",
            }
            for p in body["localPosts"]
        ]
        return JSONResponse(body)

    @app.get("/v1/accounts")
    async def accounts(request: Request) -> JSONResponse:
        await gate(request, "accounts.list")
        account = {
            "name": data.account.name,
            "accountName": data.account.account_name,
            "type": data.account.type,
            "role": "PRIMARY_OWNER",
            "verificationState": "VERIFIED",
        }
        return JSONResponse(_paged([account], request.query_params, MAX_ACCOUNTS_PAGE, "accounts"))

    @app.get("/v1/accounts/{account_id}/locations")
    async def locations(account_id: str, request: Request) -> JSONResponse:
        await gate(request, "accounts.locations.list")
        if f"accounts/{account_id}" != data.account.name:
            raise GoogleError(PERMISSION_MESSAGE, 403)
        location = masked_location(request.query_params)
        return JSONResponse(_paged([location], request.query_params, 100, "locations"))

    # After the Performance API's `locations/{id}:...` routes, which it would shadow.
    @app.get("/v1/locations/{location_id}")
    async def location(location_id: str, request: Request) -> JSONResponse:
        await gate(request, "locations.get")
        own_location(location_id)
        return JSONResponse(masked_location(request.query_params))

    def masked_location(query: QueryParams) -> dict[str, Any]:
        read_mask = query.get("readMask")
        if not read_mask:
            raise GoogleError("Request contains an invalid argument: read_mask is required.")
        full = {"name": data.location_name, "title": data.location.title}
        fields = {f.strip() for f in read_mask.split(",")}
        return {k: v for k, v in full.items() if k in fields}

    answer_unknown_paths(app)
    return app
