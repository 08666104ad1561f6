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
from datetime import date, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

from metrics_connect.engine.records import parse_instant
from metrics_connect.networks.hubspot_marketing.emulator import contacts, data
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.crm_objects import (
    CategoryError,
    admit,
    after_page,
    invalid,
    json_body,
    json_route,
    number,
    rate_limited,
)
from metrics_connect.sandbox.kit.records import TimedRecord, iso_ms

POINT_LIMIT = 500
BREAKDOWNS = {
    "totals": "totals",
    "sources": "source",
    "geolocation": "country",
    "utm-campaigns": "utm",
}
CONTENT = {"pages": None, "landing-pages": "landing", "blog-posts": "blog"}


def _with_rates(row: dict[str, int], rates: dict[str, list[str]]) -> dict[str, Any]:
    """A row as the API writes it: its counts (bounces and seconds aside) and the rates
    HubSpot derives from them (data.yaml's `rates`: numerator, denominator)."""
    out: dict[str, Any] = {k: v for k, v in row.items() if k not in ("bounces", "seconds")}
    return out | {name: row[n] / row[d] if row[d] else 0.0 for name, (n, d) in rates.items()}


def _ymd(text: str | None, name: str) -> date:
    try:
        return datetime.strptime(str(text), "%Y%m%d").date()
    except ValueError:
        raise invalid(f"{name} must be a date as YYYYMMDD") from None


def _instant(text: Any, name: str) -> datetime:
    at = parse_instant(text)
    if at is None:
        raise invalid(f"{name} must be an ISO 8601 instant")
    return at


def _page_of(items: list[dict[str, Any]], request: Request, most: int) -> dict[str, Any]:
    limit = int(request.query_params.get("limit") or 10)
    if not 1 <= limit <= most:
        raise invalid(f"limit must be between 1 and {most}")
    return after_page(items, limit, int(request.query_params.get("after") or 0))


class MarketingApp:
    def __init__(self, controls: SandboxControls) -> None:
        self.controls = controls
        # Calls left today (None: no daily quota): HubSpot's daily limit per portal.
        self.daily_calls_left: int | None = None

    def daily(self) -> CategoryError | None:
        if self.daily_calls_left is None:
            return None
        if self.daily_calls_left <= 0:
            return rate_limited("daily")
        self.daily_calls_left -= 1
        return None

    async def admit(self, request: Request, endpoint: str) -> None:
        await admit(self.controls, request, endpoint, self.daily)

    def now(self) -> datetime:
        return self.controls.clock.now()

    async def account(self, request: Request) -> dict[str, Any]:
        await self.admit(request, "GET /account-info/v3/details")
        return dict(data.PORTAL)

    async def report(self, request: Request) -> dict[str, Any]:
        kind, period = request.path_params["kind"], request.path_params["period"]
        await self.admit(request, f"GET /analytics/v2/reports/{kind}/{period}")
        if kind not in BREAKDOWNS and kind not in CONTENT and kind != "forms":
            raise CategoryError(404, "OBJECT_NOT_FOUND", f"Unknown breakdown or object {kind}")
        if period not in ("daily", "total"):
            raise invalid(f"Unsupported time period {period}")
        query = request.query_params
        start, end = _ymd(query.get("start"), "start"), _ymd(query.get("end"), "end")
        if end < start:
            raise invalid("end is before start")
        if period == "total":
            raise CategoryError(501, "NOT_IMPLEMENTED", "The sandbox serves daily reports only.")
        today = data.local_day(self.now())
        days = [start + timedelta(days=i) for i in range((min(end, today) - start).days + 1)]
        if len(days) > POINT_LIMIT:
            raise CategoryError(
                413,
                "RESULT_POINT_LIMIT_EXCEEDED",
                f"More than {POINT_LIMIT} time points requested.",
            )
        return {
            d.isoformat(): [{"breakdown": k, **v} for k, v in self._rows(kind, d).items()]
            for d in days
            if d >= data.FIRST_DAY
        }

    def _rows(self, kind: str, day: date) -> dict[str, dict[str, Any]]:
        if kind in BREAKDOWNS:
            rates = data.SPEC["rates"]["traffic"]
            return {
                k: _with_rates(v, rates)
                for k, v in data.traffic_rows(day, BREAKDOWNS[kind]).items()
            }
        if kind == "forms":
            return dict(data.form_rows(day))
        rates = data.SPEC["rates"]["pages"]
        return {k: _with_rates(v, rates) for k, v in data.page_rows(day, CONTENT[kind]).items()}

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
                "publishDate": iso_ms(e.sent_at),
                "createdAt": iso_ms(e.sent_at - timedelta(days=2)),
                "updatedAt": iso_ms(e.sent_at),
            }
            for e in data.emails()
            if e.sent_at - timedelta(days=2) <= now
        ]
        return _page_of(items, request, 100)

    async def histogram(self, request: Request) -> dict[str, Any]:
        await self.admit(request, "GET /marketing/v3/emails/statistics/histogram")
        query = request.query_params
        if (query.get("interval") or "DAY") != "DAY":
            raise invalid("The sandbox serves DAY intervals only.")
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
                    "interval": {"start": iso_ms(lower), "end": iso_ms(upper)},
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
                "createdAt": iso_ms(f.created_at),
                "updatedAt": iso_ms(f.updated_at(now)),
            }
            for f in data.FORMS
            if f.created_at <= now
        ]
        return _page_of(items, request, 50)


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
    body = await json_body(request)
    limit, after = number(body.get("limit") or 10, 10), number(body.get("after"), 0)
    if not 1 <= limit <= 200 or after + limit > SEARCH_CAP:
        raise invalid("limit is 1 to 200 and a search pages to 10,000")
    filters = [f for g in body.get("filterGroups") or [] for f in g.get("filters") or []]
    now = app.now()
    found = contacts.book().live("contacts", now)
    for f in filters:
        name, op = str(f.get("propertyName")), f.get("operator")
        if op not in ("GTE", "GT", "LTE"):
            raise invalid(f"Unsupported operator {op}")
        found = [(r, v) for r, v in found if _matches(v.get(name), op, f.get("value"))]
    found.sort(key=lambda rv: (rv[1]["lastmodifieddate"], rv[0].id))
    return after_page(found, limit, after, lambda rv: _result(rv[0], rv[1], now))


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
    have, bound = _instant(field, "property"), _instant(value, "value")
    return have >= bound if op == "GTE" else have > bound if op == "GT" else have <= bound


def create_app(controls: SandboxControls) -> Starlette:
    app = MarketingApp(controls)
    starlette = Starlette(
        routes=[
            json_route("/account-info/v3/details", app.account),
            json_route("/analytics/v2/reports/{kind}/{period}", app.report),
            json_route("/marketing/v3/emails", app.list_emails),
            json_route("/marketing/v3/emails/statistics/histogram", app.histogram),
            json_route("/marketing/v3/forms", app.forms),
            json_route("/crm/v3/objects/contacts", functools.partial(list_contacts, app)),
            json_route(
                "/crm/v3/objects/contacts/search", functools.partial(search_contacts, app), "POST"
            ),
        ]
    )
    starlette.state.marketing = app  # tests reach the daily quota through it
    return starlette
