"""The emulated LinkedIn Marketing API (ads), on the Rest.li sandbox kit:

- GET /rest/adAnalytics?q=analytics|statistics            (analytics.py)
- GET /rest/adAccountUsers?q=authenticatedUser            the login's ad account roles
- GET /rest/adAccounts?q=search, /rest/adAccounts/{id}    ad accounts
- GET /rest/adAccounts/{id}/adCampaignGroups?q=search     campaign groups
- GET /rest/adAccounts/{id}/adCampaigns?q=search          campaigns
- GET /rest/adAccounts/{id}/creatives?q=criteria          creatives

Searches page with `pageSize` (at most 1,000; creatives 100) and `pageToken`, the next token in
`metadata.nextPageToken`. Every call needs `LinkedIn-Version` (a live YYYYMM),
`X-Restli-Protocol-Version: 2.0.0` for Rest.li 2.0 values, and a Bearer token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from metrics_connect.networks.linkedin_ads.emulator.analytics import ad_analytics
from metrics_connect.networks.linkedin_ads.emulator.data import AdsData, Campaign
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.restli import (
    RestliError,
    RestliGate,
    add_lookup_routes,
    bad_request,
    monthly_versions,
    query_values,
)

# Marketing versions are served a year; in December 2026 202601 is the oldest still live.
VERSIONS = monthly_versions("202501", "202611")
MAX_PAGE = 1000
MAX_CREATIVES_PAGE = 100  # the creatives criteria finder pages at most 100
DEMO_USER = "urn:li:person:sandboxAcme01"


def millis(day: Any) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


@dataclass
class AdsEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    data: AdsData = field(default_factory=AdsData)


def page(request: Request, items: list[dict[str, Any]], most: int = MAX_PAGE) -> dict[str, Any]:
    q = query_values(request)
    size = int(str(q.get("pageSize") or 100))
    if not 1 <= size <= most:
        raise bad_request(f"pageSize must be within [1, {most}]")
    start = int(str(q.get("pageToken") or 0))
    metadata = {"nextPageToken": str(start + size)} if start + size < len(items) else {}
    return {"elements": items[start : start + size], "metadata": metadata}


def create_app(emulator: AdsEmulator) -> FastAPI:
    app = FastAPI(title="LinkedIn Marketing API (sandbox)", docs_url=None, redoc_url=None)
    controls, data = emulator.controls, emulator.data
    gate = RestliGate(controls, VERSIONS)
    account_urn = f"urn:li:sponsoredAccount:{data.account_id}"
    add_lookup_routes(app, gate, data.spec["names"])

    async def answer(request: Request, endpoint: str, build: Callable[[], Any]) -> JSONResponse:
        try:
            await gate.admit(request, endpoint)
            return JSONResponse(await asyncio.to_thread(build))
        except RestliError as exc:
            return exc.response()

    def own(account_id: str) -> None:
        if account_id != str(data.account_id):
            raise RestliError(
                403, "ACCESS_DENIED", "Not enough permissions to access this account", 100
            )

    def account() -> dict[str, Any]:
        return {
            "id": data.account_id,
            "name": data.account["name"],
            "currency": data.currency,
            "status": "ACTIVE",
            "type": "BUSINESS",
            "reference": "urn:li:organization:2414183",
            "test": False,
        }

    def campaign(c: Campaign, now: datetime) -> dict[str, Any]:
        schedule = {"start": millis(c.start)} | ({"end": millis(c.end)} if c.end else {})
        done = c.end is not None and c.end < now.date()
        return {
            "id": c.id,
            "name": c.name,
            "account": account_urn,
            "campaignGroup": f"urn:li:sponsoredCampaignGroup:{c.group}",
            "type": c.type,
            "objectiveType": c.objective,
            "costType": "CPM",
            "status": "COMPLETED" if done else "ACTIVE",
            "runSchedule": schedule,
            "changeAuditStamps": {"created": {"time": millis(c.start)}},
        }

    @app.get("/rest/adAnalytics")
    async def analytics(request: Request) -> JSONResponse:
        def run() -> Any:
            return ad_analytics(data, query_values(request), controls.clock.now())

        return await answer(request, "adAnalytics", run)

    @app.get("/rest/adAccountUsers")
    async def account_users(request: Request) -> JSONResponse:
        def run() -> Any:
            if query_values(request).get("q") != "authenticatedUser":
                raise bad_request("q must be authenticatedUser")
            role = {"account": account_urn, "role": "ACCOUNT_BILLING_ADMIN", "user": DEMO_USER}
            return page(request, [role])

        return await answer(request, "adAccountUsers", run)

    @app.get("/rest/adAccounts")
    async def accounts(request: Request) -> JSONResponse:
        def run() -> Any:
            if query_values(request).get("q") != "search":
                raise bad_request("q must be search")
            return page(request, [account()])

        return await answer(request, "adAccounts.search", run)

    @app.get("/rest/adAccounts/{account_id}")
    async def account_get(request: Request, account_id: str) -> JSONResponse:
        def run() -> Any:
            own(account_id)
            return account()

        return await answer(request, "adAccounts.get", run)

    @app.get("/rest/adAccounts/{account_id}/adCampaignGroups")
    async def groups(request: Request, account_id: str) -> JSONResponse:
        def run() -> Any:
            own(account_id)
            items = [
                {"id": gid, "name": g["name"], "account": account_urn, "status": "ACTIVE"}
                for gid, g in sorted(data.groups.items())
            ]
            return page(request, items)

        return await answer(request, "adCampaignGroups.search", run)

    @app.get("/rest/adAccounts/{account_id}/adCampaigns")
    async def campaigns(request: Request, account_id: str) -> JSONResponse:
        def run() -> Any:
            own(account_id)
            now = controls.clock.now()
            items = [campaign(c, now) for _, c in sorted(data.campaigns.items())]
            return page(request, items)

        return await answer(request, "adCampaigns.search", run)

    @app.get("/rest/adAccounts/{account_id}/creatives")
    async def creatives(request: Request, account_id: str) -> JSONResponse:
        def run() -> Any:
            own(account_id)
            if query_values(request).get("q") != "criteria":
                raise bad_request("q must be criteria")
            items = [
                {
                    "id": f"urn:li:sponsoredCreative:{c.id}",
                    "campaign": f"urn:li:sponsoredCampaign:{c.campaign.id}",
                    "account": account_urn,
                    "name": c.title,
                    "intendedStatus": "ACTIVE",
                    "createdAt": c.created_at_ms,
                }
                for _, c in sorted(data.creatives.items())
            ]
            return page(request, items, MAX_CREATIVES_PAGE)

        return await answer(request, "creatives.search", run)

    return app
