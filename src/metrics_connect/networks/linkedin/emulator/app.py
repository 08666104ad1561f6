"""The emulated LinkedIn Community Management API (organization pages), on the Rest.li
sandbox kit:

- GET /rest/organizationAcls?q=roleAssignee                 the login's organizations
- GET /rest/organizations/{id}                              name and vanity name
- GET /rest/networkSizes/{organization urn}?edgeType=COMPANY_FOLLOWED_BY_MEMBER
- GET /rest/organizationalEntityFollowerStatistics?q=organizationalEntity
- GET /rest/organizationalEntityShareStatistics?q=organizationalEntity
- GET /rest/organizationPageStatistics?q=organization
- GET /rest/posts?q=author                                  the organization's posts

Statistics are lifetime without `timeIntervals`, and per UTC day (DAY) or month with
`timeIntervals=(timeRange:(start:ms,end:ms),timeGranularityType:DAY)`: time-bound
statistics cover the trailing 12 months only (an older start is refused), `end` is
exclusive. Share statistics of chosen posts: `shares=List(urn...)`, at most 20.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from metrics_connect.networks.linkedin.emulator.data import PageData, engagement
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.restli import (
    RestliError,
    RestliGate,
    add_lookup_routes,
    bad_request,
    monthly_versions,
    query_values,
)

VERSIONS = monthly_versions("202501", "202611")
TIME_BOUND_DAYS = 365  # "the trailing 12 months"
MAX_SHARES = 20
MAX_POSTS_PAGE = 100
DEMO_USER = "urn:li:person:sandboxAcme01"
FACETS = (
    "followerCountsByGeoCountry",
    "followerCountsByGeo",
    "followerCountsByIndustry",
    "followerCountsByFunction",
    "followerCountsBySeniority",
    "followerCountsByStaffCountRange",
)
FACET_KEYS = {
    "followerCountsByGeoCountry": "geo",
    "followerCountsByGeo": "geo",
    "followerCountsByIndustry": "industry",
    "followerCountsByFunction": "function",
    "followerCountsBySeniority": "seniority",
    "followerCountsByStaffCountRange": "staffCountRange",
}


@dataclass
class PagesEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    data: PageData = field(default_factory=PageData)


def ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def day_of_ms(value: Any) -> date:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC).date()
    except (TypeError, ValueError) as exc:
        raise bad_request(f"Invalid timestamp: {value}") from exc


def time_buckets(q: dict[str, Any], now: datetime) -> list[tuple[date, date]] | None:
    """The UTC days (or months) of `timeIntervals` as inclusive spans; None: lifetime."""
    intervals = q.get("timeIntervals")
    if intervals is None:
        return None
    try:
        span, granularity = intervals["timeRange"], intervals["timeGranularityType"]
        first, end = day_of_ms(span["start"]), day_of_ms(span["end"])
    except (KeyError, TypeError) as exc:
        raise bad_request("timeIntervals needs timeRange (start, end) and a granularity") from exc
    if granularity not in ("DAY", "MONTH"):
        raise bad_request("timeGranularityType must be DAY or MONTH")
    if first < now.date() - timedelta(days=TIME_BOUND_DAYS):
        raise bad_request("Time-bound statistics are only available for the past 12 months")
    last = min(end - timedelta(days=1), now.date())
    out, day = [], first
    while day <= last:
        stop = day
        if granularity == "MONTH":
            stop = min(
                last, (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(1)
            )
        out.append((day, stop))
        day = stop + timedelta(days=1)
    return out


def time_range(first: date, last: date) -> dict[str, int]:
    return {"start": ms(first), "end": ms(last + timedelta(days=1))}


def create_app(emulator: PagesEmulator) -> FastAPI:
    app = FastAPI(title="LinkedIn Community Management API (sandbox)", docs_url=None)
    controls, data = emulator.controls, emulator.data
    gate = RestliGate(controls, VERSIONS)
    add_lookup_routes(app, gate, data.spec["names"])

    async def answer(request: Request, endpoint: str, build: Callable[[], Any]) -> JSONResponse:
        try:
            await gate.admit(request, endpoint)
            return JSONResponse(await asyncio.to_thread(build))
        except RestliError as exc:
            return exc.response()

    def own(q: dict[str, Any], name: str) -> None:
        if q.get(name) != data.org_urn:
            raise RestliError(403, "ACCESS_DENIED", f"Not enough permissions to access {name}", 100)

    def organization() -> dict[str, Any]:
        return {
            "id": data.org_id,
            "localizedName": data.org["name"],
            "vanityName": data.org["vanity_name"],
        }

    @app.get("/rest/organizationAcls")
    async def acls(request: Request) -> JSONResponse:
        def run() -> Any:
            if query_values(request).get("q") != "roleAssignee":
                raise bad_request("q must be roleAssignee")
            acl = {
                "organization": data.org_urn,
                "role": "ADMINISTRATOR",
                "state": "APPROVED",
                "roleAssignee": DEMO_USER,
            }
            return {"elements": [acl], "paging": {"start": 0, "count": 10, "total": 1}}

        return await answer(request, "organizationAcls", run)

    @app.get("/rest/organizations/{org_id}")
    async def organization_get(request: Request, org_id: str) -> JSONResponse:
        def run() -> Any:
            if org_id != str(data.org_id):
                raise RestliError(404, "NOT_FOUND", f"Organization {org_id} not found")
            return organization()

        return await answer(request, "organizations.get", run)

    @app.get("/rest/networkSizes/{urn}")
    async def network_size(request: Request, urn: str) -> JSONResponse:
        def run() -> Any:
            if query_values(request).get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
                raise bad_request("edgeType must be COMPANY_FOLLOWED_BY_MEMBER")
            own({"organization": urn}, "organization")
            return {"firstDegreeSize": data.followers_total(controls.clock.now().date())}

        return await answer(request, "networkSizes", run)

    @app.get("/rest/organizationalEntityFollowerStatistics")
    async def follower_statistics(request: Request) -> JSONResponse:
        def run() -> Any:
            q = query_values(request)
            own(q, "organizationalEntity")
            now = controls.clock.now()
            spans = time_buckets(q, now)
            if spans is None:
                element: dict[str, Any] = {"organizationalEntity": data.org_urn}
                for facet in FACETS:
                    element[facet] = [
                        {
                            FACET_KEYS[facet]: value,
                            "followerCounts": {
                                "organicFollowerCount": organic,
                                "paidFollowerCount": paid,
                            },
                        }
                        for value, (organic, paid) in data.demographics(facet, now).items()
                    ]
                return {"elements": [element], "paging": {"start": 0, "count": 10}}
            elements = []
            for first, last in spans:
                gains = [
                    data.follower_gains(first + timedelta(days=i))
                    for i in range((last - first).days + 1)
                ]
                elements.append(
                    {
                        "organizationalEntity": data.org_urn,
                        "timeRange": time_range(first, last),
                        "followerGains": {
                            "organicFollowerGain": sum(g[0] for g in gains),
                            "paidFollowerGain": sum(g[1] for g in gains),
                        },
                    }
                )
            return {"elements": elements, "paging": {"start": 0, "count": 10}}

        return await answer(request, "organizationalEntityFollowerStatistics", run)

    def stats_element(stats: dict[str, int]) -> dict[str, Any]:
        return {**stats, "engagement": engagement(stats)}

    @app.get("/rest/organizationalEntityShareStatistics")
    async def share_statistics(request: Request) -> JSONResponse:
        def run() -> Any:
            q = query_values(request)
            own(q, "organizationalEntity")
            now = controls.clock.now()
            spans = time_buckets(q, now)
            if "shares" in q:
                wanted = q["shares"] if isinstance(q["shares"], list) else []
                if not 1 <= len(wanted) <= MAX_SHARES:
                    raise bad_request(f"shares must list 1 to {MAX_SHARES} share URNs")
                posts = {p.urn: p for p in data.posts_until(now)}
                elements = [
                    {
                        "organizationalEntity": data.org_urn,
                        "share": urn,
                        "totalShareStatistics": stats_element(data.post_lifetime(posts[urn], now)),
                    }
                    for urn in wanted
                    if urn in posts
                ]
                return {"elements": elements, "paging": {"start": 0, "count": 10}}
            if spans is None:
                spans = [(data.created, now.date())]
            elements = []
            for first, last in spans:
                total: dict[str, int] = {}
                for i in range((last - first).days + 1):
                    for name, value in data.share_day(first + timedelta(days=i)).items():
                        total[name] = total.get(name, 0) + value
                element = {
                    "organizationalEntity": data.org_urn,
                    "totalShareStatistics": stats_element(total),
                }
                if q.get("timeIntervals") is not None:
                    element["timeRange"] = time_range(first, last)
                elements.append(element)
            return {"elements": elements, "paging": {"start": 0, "count": 10}}

        return await answer(request, "organizationalEntityShareStatistics", run)

    @app.get("/rest/organizationPageStatistics")
    async def page_statistics(request: Request) -> JSONResponse:
        def run() -> Any:
            q = query_values(request)
            own(q, "organization")
            now = controls.clock.now()
            spans = time_buckets(q, now) or [(data.created, now.date())]
            elements = []
            for first, last in spans:
                days = [
                    data.page_views(first + timedelta(days=i))
                    for i in range((last - first).days + 1)
                ]
                views = {
                    "allPageViews": {
                        "pageViews": sum(v[0] for v in days),
                        "uniquePageViews": sum(v[1] for v in days),
                    }
                }
                element: dict[str, Any] = {
                    "organization": data.org_urn,
                    "totalPageStatistics": {"views": views},
                }
                if q.get("timeIntervals") is not None:
                    element["timeRange"] = time_range(first, last)
                elements.append(element)
            return {"elements": elements, "paging": {"start": 0, "count": 10}}

        return await answer(request, "organizationPageStatistics", run)

    @app.get("/rest/posts")
    async def posts(request: Request) -> JSONResponse:
        def run() -> Any:
            q = query_values(request)
            if q.get("q") != "author":
                raise bad_request("q must be author")
            own(q, "author")
            count = int(str(q.get("count") or 10))
            start = int(str(q.get("start") or 0))
            if not 1 <= count <= MAX_POSTS_PAGE:
                raise bad_request(f"count must be within [1, {MAX_POSTS_PAGE}]")
            listed = sorted(data.posts_until(controls.clock.now()), key=lambda p: -p.created_ms)
            elements = [
                {
                    "id": p.urn,
                    "author": data.org_urn,
                    "commentary": p.commentary,
                    "createdAt": p.created_ms,
                    "publishedAt": p.created_ms,
                    "lifecycleState": "PUBLISHED",
                    "visibility": "PUBLIC",
                }
                for p in listed[start : start + count]
            ]
            paging = {"start": start, "count": count, "total": len(listed)}
            return {"elements": elements, "paging": paging}

        return await answer(request, "posts", run)

    return app
