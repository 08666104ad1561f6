"""HubSpot's marketing APIs as the sandbox serves them (docs/networks/hubspot_marketing.md):

- `GET /analytics/v2/reports/{breakdown}/{period}` (Analytics API v2: `totals`, `sources`,
  `geolocation`, `utm-campaigns`, and the objects `pages`, `landing-pages`,
  `blog-posts`, `forms`; `daily` or `total`; `start`/`end` as YYYYMMDD in the portal's
  time zone, both required; more than 500 time points is a 413
  RESULT_POINT_LIMIT_EXCEEDED). Daily answers are keyed by day, each a list of rows
  `{"breakdown", counts..., rates as fractions}`.
- `GET /marketing/v3/emails` (`limit` up to 100, `after`), `GET
  /marketing/v3/emails/statistics/histogram` (`interval`, `startTimestamp`,
  `endTimestamp`, `emailIds`): the counters of the e-mails sent in each interval.
- `GET /marketing/v3/forms` (`limit` up to 50, `after`), `GET /account-info/v3/details`.
- Bearer tokens; errors `{"status": "error", "message", "correlationId", "category"}`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.hubspot_marketing.emulator import contacts, data
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.json_rest import credential
from metrics_connect.sandbox.kit.records import TimedRecord, iso_ms

POINT_LIMIT = 500
BREAKDOWNS = {
    "totals": "totals",
    "sources": "source",
    "geolocation": "country",
    "utm-campaigns": "utm",
}
CONTENT = {"pages": None, "landing-pages": "landing", "blog-posts": "blog"}


class HubSpotError(Exception):
    def __init__(self, status: int, category: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra

    def response(self) -> JSONResponse:
        body = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
            **self.extra,
        }
        return JSONResponse(body, status_code=self.status)


_TOKEN_ERRORS = {
    TokenFault.MISSING: (401, "INVALID_AUTHENTICATION", "Authentication credentials not found."),
    TokenFault.FOREIGN: (401, "INVALID_AUTHENTICATION", "The OAuth token used is not valid."),
    TokenFault.EXPIRED: (
        401,
        "EXPIRED_AUTHENTICATION",
        "The OAuth token used to make this call expired 2 minute(s) ago.",
    ),
    TokenFault.REVOKED: (
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call.",
    ),
}


def _rates(row: dict[str, int]) -> dict[str, Any]:
    """A traffic row as the API writes it: counts, and the rates HubSpot derives."""
    visits, views, contacts = row["visits"], row["rawViews"], row["contacts"]

    def ratio(n: float, d: float) -> float:
        return n / d if d else 0.0

    out: dict[str, Any] = {
        k: row[k]
        for k in (
            "visits",
            "visitors",
            "rawViews",
            "contacts",
            "leads",
            "customers",
            "subscribers",
            *data.DEVICES,
        )
    }
    return out | {
        "bounceRate": ratio(row["bounces"], visits),
        "timePerSession": ratio(row["seconds"], visits),
        "newVisitorSessionRate": ratio(row["visitors"], visits),
        "pageviewsPerSession": ratio(views, visits),
        "sessionToContactRate": ratio(contacts, visits),
        "contactToCustomerRate": ratio(row["customers"], contacts),
        "contactsPerPageview": ratio(contacts, views),
    }


def _page(row: dict[str, int]) -> dict[str, Any]:
    views, entrances = row["rawViews"], row["entrances"]
    out: dict[str, Any] = {k: v for k, v in row.items() if k not in ("bounces", "seconds")}
    return out | {
        "pageBounceRate": row["bounces"] / entrances if entrances else 0.0,
        "timePerPageview": row["seconds"] / views if views else 0.0,
        "exitsPerPageview": row["exits"] / views if views else 0.0,
    }


def _ymd(text: str | None, name: str) -> date:
    try:
        return datetime.strptime(str(text), "%Y%m%d").date()
    except ValueError:
        raise HubSpotError(400, "VALIDATION_ERROR", f"{name} must be a date as YYYYMMDD") from None


def _instant(text: str | None, name: str) -> datetime:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise HubSpotError(400, "VALIDATION_ERROR", f"{name} must be an ISO 8601 instant") from None


def _page_of(items: list[dict[str, Any]], request: Request, most: int) -> dict[str, Any]:
    limit = int(request.query_params.get("limit") or 10)
    if not 1 <= limit <= most:
        raise HubSpotError(400, "VALIDATION_ERROR", f"limit must be between 1 and {most}")
    after = int(request.query_params.get("after") or 0)
    body: dict[str, Any] = {"total": len(items), "results": items[after : after + limit]}
    if after + limit < len(items):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return body


class MarketingApp:
    def __init__(self, controls: SandboxControls) -> None:
        self.controls = controls
        # Calls left today (None: no daily quota): HubSpot's daily limit per portal.
        self.daily_calls_left: int | None = None

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(credential(request))
        if fault is not None:
            raise HubSpotError(*_TOKEN_ERRORS[fault])
        if self.daily_calls_left is not None:
            if self.daily_calls_left <= 0:
                raise HubSpotError(
                    429,
                    "RATE_LIMITS",
                    "You have reached your daily limit.",
                    errorType="RATE_LIMIT",
                    policyName="DAILY",
                )
            self.daily_calls_left -= 1
        if controls.should_rate_limit():
            raise HubSpotError(
                429,
                "RATE_LIMITS",
                "You have reached your ten_secondly_rolling limit.",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
            )
        if controls.should_fail():
            raise HubSpotError(502, "INTERNAL_ERROR", "Bad gateway: try again.")

    def now(self) -> datetime:
        return self.controls.clock.now()

    async def account(self, request: Request) -> dict[str, Any]:
        await self.admit(request, "GET /account-info/v3/details")
        return dict(data.PORTAL)

    async def report(self, request: Request) -> dict[str, Any]:
        kind, period = request.path_params["kind"], request.path_params["period"]
        await self.admit(request, f"GET /analytics/v2/reports/{kind}/{period}")
        if kind not in BREAKDOWNS and kind not in CONTENT and kind != "forms":
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Unknown breakdown or object {kind}")
        if period not in ("daily", "total"):
            raise HubSpotError(400, "VALIDATION_ERROR", f"Unsupported time period {period}")
        query = request.query_params
        start, end = _ymd(query.get("start"), "start"), _ymd(query.get("end"), "end")
        if end < start:
            raise HubSpotError(400, "VALIDATION_ERROR", "end is before start")
        today = data.local_day(self.now())
        days = [start + timedelta(days=i) for i in range((min(end, today) - start).days + 1)]
        if period == "daily" and len(days) > POINT_LIMIT:
            raise HubSpotError(
                413,
                "RESULT_POINT_LIMIT_EXCEEDED",
                f"More than {POINT_LIMIT} time points requested.",
            )
        by_day = {d.isoformat(): self._rows(kind, d) for d in days if d >= data.FIRST_DAY}
        if period == "daily":
            return {
                d: [{"breakdown": k, **v} for k, v in rows.items()] for d, rows in by_day.items()
            }
        raise HubSpotError(501, "NOT_IMPLEMENTED", "The sandbox serves daily reports only.")

    def _rows(self, kind: str, day: date) -> dict[str, dict[str, Any]]:
        if kind in BREAKDOWNS:
            return {k: _rates(v) for k, v in data.traffic_rows(day, BREAKDOWNS[kind]).items()}
        if kind == "forms":
            return dict(data.form_rows(day))
        return {k: _page(v) for k, v in data.page_rows(day, CONTENT[kind]).items()}

    async def list_emails(self, request: Request) -> dict[str, Any]:
        await self.admit(request, "GET /marketing/v3/emails")
        now = self.now()
        items = [
            {
                **data.SPEC["email_definition"],
                "id": str(e.id),
                "name": e.name,
                "subject": e.name,
                "state": "PUBLISHED",
                "publishDate": _iso(e.sent_at),
                "createdAt": _iso(e.sent_at - timedelta(days=2)),
                "updatedAt": _iso(e.sent_at),
            }
            for e in data.emails()
            if e.sent_at - timedelta(days=2) <= now
        ]
        return _page_of(items, request, 100)

    async def histogram(self, request: Request) -> dict[str, Any]:
        await self.admit(request, "GET /marketing/v3/emails/statistics/histogram")
        query = request.query_params
        if (query.get("interval") or "DAY") != "DAY":
            raise HubSpotError(400, "VALIDATION_ERROR", "The sandbox serves DAY intervals only.")
        start = _instant(query.get("startTimestamp"), "startTimestamp")
        end = _instant(query.get("endTimestamp"), "endTimestamp")
        ids = {int(i) for i in query.getlist("emailIds") for i in i.split(",") if i}
        now, results = self.now(), []
        day = data.local_day(start)
        while (lower := datetime.combine(day, datetime.min.time(), data.TZ)) < end:
            upper = lower + timedelta(days=1)
            counters = dict.fromkeys(data.EMAIL_COUNTERS, 0)
            for e in data.emails():
                if max(lower, start) <= e.sent_at < min(upper, end) and (not ids or e.id in ids):
                    for k, v in e.counters(now).items():
                        counters[k] += v
            results.append(
                {
                    "interval": {"start": _iso(lower), "end": _iso(upper)},
                    "aggregations": {"counters": counters},
                }
            )
            day += timedelta(days=1)
        return {"total": len(results), "results": results}

    async def forms(self, request: Request) -> dict[str, Any]:
        await self.admit(request, "GET /marketing/v3/forms")
        now = self.now()
        items = [
            {
                **data.SPEC["form_definition"],
                "id": f.guid,
                "name": f.name,
                "createdAt": _iso(datetime.combine(f.created, datetime.min.time(), data.TZ)),
                "updatedAt": _iso(f.updated_at(now)),
            }
            for f in data.FORMS
            if datetime.combine(f.created, datetime.min.time(), data.TZ) <= now
        ]
        return _page_of(items, request, 50)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


SEARCH_CAP = 10_000


def _result(record: TimedRecord, fields: dict[str, Any], at: datetime) -> dict[str, Any]:
    archived = record.archived(at)
    out = {
        "id": record.id,
        "properties": {**fields, "hs_object_id": record.id},
        "createdAt": fields["createdate"],
        "updatedAt": fields["lastmodifieddate"],
        "archived": archived,
    }
    return out | (
        {"archivedAt": iso_ms(record.archived_at)} if record.archived_at and archived else {}
    )


async def search_contacts(app: MarketingApp, request: Request) -> dict[str, Any]:
    """CRM v3 search on contacts: a GTE/GT/LTE filter on a date property (ms or ISO),
    sorted by it ascending, `limit` up to 200, `after` up to 10,000 results."""
    await app.admit(request, "POST /crm/v3/objects/contacts/search")
    body = await request.json()
    limit, after = int(body.get("limit") or 10), int(body.get("after") or 0)
    if not 1 <= limit <= 200 or after + limit > SEARCH_CAP:
        raise HubSpotError(
            400, "VALIDATION_ERROR", "limit is 1 to 200 and a search pages to 10,000"
        )
    filters = [f for g in body.get("filterGroups") or [] for f in g.get("filters") or []]
    now = app.now()
    found = contacts.book().live("contacts", now)
    for f in filters:
        name, op = str(f.get("propertyName")), f.get("operator")
        if op not in ("GTE", "GT", "LTE"):
            raise HubSpotError(400, "VALIDATION_ERROR", f"Unsupported operator {op}")
        found = [(r, v) for r, v in found if _matches(v.get(name), op, f.get("value"))]
    found.sort(key=lambda rv: (rv[1]["lastmodifieddate"], rv[0].id))
    page: dict[str, Any] = {
        "total": len(found),
        "results": [_result(r, v, now) for r, v in found[after : after + limit]],
    }
    if after + limit < len(found):
        page["paging"] = {"next": {"after": str(after + limit)}}
    return page


async def list_contacts(app: MarketingApp, request: Request) -> dict[str, Any]:
    await app.admit(request, "GET /crm/v3/objects/contacts")
    now = app.now()
    book = contacts.book()
    archived = (request.query_params.get("archived") or "").lower() == "true"
    listed = book.archived("contacts", now) if archived else book.live("contacts", now)
    return _page_of([_result(r, v, now) for r, v in listed], request, 100)


def _matches(field: Any, op: str, value: Any) -> bool:
    if not field:
        return False
    have, bound = _instant(str(field), "property"), _instant(_iso_of(value), "value")
    return have >= bound if op == "GTE" else have > bound if op == "GT" else have <= bound


def _iso_of(value: Any) -> str:
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC).isoformat()
    return text


def create_app(controls: SandboxControls) -> Starlette:
    app = MarketingApp(controls)

    def route(
        path: str, handler: Callable[[Request], Awaitable[dict[str, Any]]], method: str = "GET"
    ) -> Route:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                return JSONResponse(await handler(request))
            except HubSpotError as exc:
                return exc.response()

        return Route(path, endpoint, methods=[method])

    starlette = Starlette(
        routes=[
            route("/account-info/v3/details", app.account),
            route("/analytics/v2/reports/{kind}/{period}", app.report),
            route("/marketing/v3/emails", app.list_emails),
            route("/marketing/v3/emails/statistics/histogram", app.histogram),
            route("/marketing/v3/forms", app.forms),
            route("/crm/v3/objects/contacts", functools.partial(list_contacts, app)),
            route(
                "/crm/v3/objects/contacts/search",
                functools.partial(search_contacts, app),
                "POST",
            ),
        ]
    )
    starlette.state.marketing = app  # tests reach the daily quota through it
    return starlette
