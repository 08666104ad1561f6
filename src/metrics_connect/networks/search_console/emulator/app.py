"""The emulated Search Console API (searchconsole.googleapis.com, also served at the
older www.googleapis.com/webmasters/v3 paths, which the API keeps):

- GET  /webmasters/v3/sites                                  sites.list
- GET  /webmasters/v3/sites/{siteUrl}                        sites.get
- POST /webmasters/v3/sites/{siteUrl}/searchAnalytics/query  searchanalytics.query

`siteUrl` is percent-encoded in the path (`sc-domain%3Aexample.com`,
`https%3A%2F%2Fwww.example.com%2F`). OAuth bearer tokens follow the sandbox rule;
errors have Google's envelope (sandbox kit): 401 for a missing or expired token, 403
for a revoked grant or a property the user cannot read (unverified included), 400 for a
bad request, 429 RESOURCE_EXHAUSTED with Retry-After for the per-minute quota, 503.
Endpoint names for the call counter: sites.list, sites.get, searchanalytics.query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request

from metrics_connect.networks.search_console.emulator.data import SITES, SiteEntry, site
from metrics_connect.networks.search_console.emulator.query import parse, run_query
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.google import (
    GoogleError,
    admit,
    answer_google_errors,
    answer_unknown_paths,
    quota_message,
)

QUOTA_MESSAGE = quota_message("searchconsole.googleapis.com")
REVOKED_MESSAGE = "Request had insufficient authentication scopes."


def permission_message(site_url: str) -> str:
    return (
        f"User does not have sufficient permission for site '{site_url}'. See also: "
        "https://support.google.com/webmasters/answer/2451999."
    )


@dataclass
class SearchConsoleEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)


def create_app(emulator: SearchConsoleEmulator) -> FastAPI:
    app = FastAPI(title="Search Console API (sandbox)", docs_url=None, redoc_url=None)
    controls = emulator.controls

    async def gate(request: Request, endpoint: str) -> None:
        await admit(controls, request, endpoint, REVOKED_MESSAGE, QUOTA_MESSAGE)

    def readable(site_url: str) -> SiteEntry:
        entry = site(site_url)
        if entry is None or entry.permission == "siteUnverifiedUser":
            raise GoogleError(permission_message(site_url), 403)
        return entry

    @app.post("/webmasters/v3/sites/{site_url:path}/searchAnalytics/query")
    async def query(site_url: str, request: Request) -> dict[str, Any]:
        await gate(request, "searchanalytics.query")
        entry = readable(site_url)
        try:
            body = await request.json()
        except ValueError:
            raise GoogleError("Invalid JSON payload received.", 400) from None
        parsed = parse(body)
        if entry.traffic is None:
            return {"responseAggregationType": parsed.aggregation}
        return run_query(entry.traffic, parsed, controls.clock.now())

    @app.get("/webmasters/v3/sites")
    async def sites_list(request: Request) -> dict[str, Any]:
        await gate(request, "sites.list")
        return {
            "siteEntry": [{"siteUrl": s.site_url, "permissionLevel": s.permission} for s in SITES]
        }

    @app.get("/webmasters/v3/sites/{site_url:path}")
    async def sites_get(site_url: str, request: Request) -> dict[str, Any]:
        await gate(request, "sites.get")
        entry = site(site_url)
        if entry is None:
            raise GoogleError(permission_message(site_url), 403)
        return {"siteUrl": entry.site_url, "permissionLevel": entry.permission}

    answer_google_errors(app, controls)
    answer_unknown_paths(app)
    return app
