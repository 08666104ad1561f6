"""The emulated X Ads API (ads-api.x.com), versions 11 and 12 in the path:

- GET  /{v}/accounts                                   the user's ads accounts (cursor paging)
- GET  /{v}/accounts/{account_id}                      one account (timezone, no currency)
- GET  /{v}/accounts/{account_id}/funding_instruments  its funding instruments (currency)
- GET  /{v}/accounts/{account_id}/campaigns            its campaigns (count, cursor,
                                                       campaign_ids, with_deleted)
- GET  /{v}/stats/accounts/{account_id}                synchronous stats (7 days at most)
- POST /{v}/stats/jobs/accounts/{account_id}           an asynchronous job (90 days)
- GET  /{v}/stats/jobs/accounts/{account_id}           jobs by job_ids: status, url
- GET  /sandbox/downloads/{job_id}.json.gz             a finished job's gzipped file
                                                       (pre-signed: no OAuth, as X's CDN)

OAuth 1.0a on every API call (auth.py). Rate limits as X sends them: x-rate-limit-limit,
-remaining and -reset (epoch seconds of the 15-minute window's end) on every answer; 429
TOO_MANY_REQUESTS past 250 calls a window or by the switch; 503 SERVICE_UNAVAILABLE with
Retry-After by the switch. Endpoint names for the call counter: accounts, accounts.get,
funding_instruments, campaigns, stats, stats.jobs.create, stats.jobs.get, download.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from metrics_connect.networks.twitter_ads.emulator import auth
from metrics_connect.networks.twitter_ads.emulator.data import ACCOUNTS, Account, campaigns_of
from metrics_connect.networks.twitter_ads.emulator.stats import (
    ASYNC_MAX_DAYS,
    SYNC_MAX_DAYS,
    XError,
    answer,
    parse,
)
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.paging import BadPageRequest, next_cursor_page
from metrics_connect.sandbox.kit.rate_window import RateWindow

VERSIONS = ("11", "12")
FIRST_JOB_ID = 1036633974745329664


@dataclass
class Job:
    id: int
    account_id: str
    params: dict[str, Any]
    created: str
    file: bytes
    polls: int = 0

    def json(self, status: str, url: str | None) -> dict[str, Any]:
        return {
            **self.params,
            **dict(id=self.id, id_str=str(self.id), status=status, url=url),
            **dict(segmentation_type=None, country=None, platform=None, expires_at=None),
            **dict(created_at=self.created, updated_at=self.created),
        }


@dataclass
class XAdsEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    # Polls a job answers PROCESSING before SUCCESS (tests raise it).
    job_polls_before_success: int = 0
    jobs: dict[int, Job] = field(default_factory=dict)
    # 250 calls a 15-minute window per user, announced in x-rate-limit-* headers.
    window: RateWindow = field(default_factory=lambda: RateWindow(250, 900))


@dataclass
class Admitted:
    """A call past the gate: its parameters (query and form), the account it names, and
    the rate-limit headers to answer with."""

    params: dict[str, str]
    headers: dict[str, str]
    account: Account

    def answer(self, body: dict[str, Any]) -> JSONResponse:
        return JSONResponse({**body, "request": {"params": self.params}}, headers=self.headers)

    def page(self, rows: list[dict[str, Any]]) -> JSONResponse:
        """X's listings: `count` (1..1000, 200 by default) and an opaque `cursor`."""
        try:
            return self.answer(next_cursor_page(rows, self.params, 200, 1000))
        except BadPageRequest as exc:
            raise XError(400, "INVALID_PARAMETER", f"{exc}: count or cursor") from None


def create_app(emulator: XAdsEmulator) -> FastAPI:
    app = FastAPI(title="X Ads API (sandbox)", docs_url=None, redoc_url=None)
    controls, window = emulator.controls, emulator.window

    async def gate(request: Request, version: str, endpoint: str, account_id: str) -> Admitted:
        """Counter, latency, version, OAuth, limits and the account; raises the XError."""
        controls.calls.record(endpoint)
        await controls.apply_latency()
        if version not in VERSIONS:
            raise XError(404, "NOT_FOUND", f"Version {version} of the Ads API is not served")
        auth.check(request, await request.body(), controls)
        now = controls.clock.now().timestamp()
        room, headers = window.take(now)
        if controls.should_rate_limit():
            room = False
            headers = window.headers(0, int(now) + controls.switches.retry_after_seconds)
        if not room:
            raise XError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded", **headers)
        if controls.should_fail():
            wait = str(controls.switches.retry_after_seconds)
            raise XError(503, "SERVICE_UNAVAILABLE", "Service unavailable", retry_after=wait)
        params = dict(request.query_params)
        if request.method == "POST":
            params |= {k: str(v) for k, v in (await request.form()).items()}
        found = next((a for a in ACCOUNTS if a.id == account_id), ACCOUNTS[0])
        if account_id and found.id != account_id:
            raise XError(404, "NOT_FOUND", f"Account {account_id} was not found")
        return Admitted(params, headers, found)

    @app.exception_handler(XError)
    async def x_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, XError)
        return exc.response(request.query_params)

    @app.get("/{version}/accounts")
    async def accounts(version: str, request: Request) -> Any:
        call = await gate(request, version, "accounts", "")
        return call.page([account_json(a) for a in ACCOUNTS])

    @app.get("/{version}/accounts/{account_id}")
    async def account_get(version: str, account_id: str, request: Request) -> Any:
        call = await gate(request, version, "accounts.get", account_id)
        return call.answer({"data": account_json(call.account)})

    @app.get("/{version}/accounts/{account_id}/funding_instruments")
    async def funding(version: str, account_id: str, request: Request) -> Any:
        call = await gate(request, version, "funding_instruments", account_id)
        found = call.account
        instrument: dict[str, Any] = dict(
            id=found.funding_instrument, account_id=found.id, type="CREDIT_CARD"
        )
        instrument |= dict(name=f"{found.name} card", currency=found.currency)
        return call.page([{**instrument, "entity_status": "ACTIVE", "deleted": False}])

    @app.get("/{version}/accounts/{account_id}/campaigns")
    async def campaigns(version: str, account_id: str, request: Request) -> Any:
        call = await gate(request, version, "campaigns", account_id)
        found, today = call.account, controls.clock.now().date()
        wanted = set(filter(None, call.params.get("campaign_ids", "").split(",")))
        deleted = call.params.get("with_deleted", "false").lower() == "true"
        rows = []
        for campaign in campaigns_of(found.id):
            # A campaign over for a year is deleted: listed only with_deleted=true.
            gone = campaign.end is not None and campaign.end < today - timedelta(days=365)
            if (wanted and campaign.id not in wanted) or (gone and not deleted):
                continue
            end = f"{campaign.end}T03:00:00Z" if campaign.end else None
            row: dict[str, Any] = dict(
                id=campaign.id, name=campaign.name, account_id=found.id, deleted=gone
            )
            row |= dict(start_time=f"{campaign.start}T03:00:00Z", end_time=end)
            row |= dict(funding_instrument_id=found.funding_instrument, currency=found.currency)
            rows.append({**row, "entity_status": "PAUSED" if campaign.end else "ACTIVE"})
        return call.page(rows)

    @app.get("/{version}/stats/accounts/{account_id}")
    async def stats(version: str, account_id: str, request: Request) -> Any:
        call = await gate(request, version, "stats", account_id)
        body = answer(call.account, parse(call.params, call.account, SYNC_MAX_DAYS))
        return JSONResponse(body, headers=call.headers)

    @app.post("/{version}/stats/jobs/accounts/{account_id}")
    async def job_create(version: str, account_id: str, request: Request) -> Any:
        call = await gate(request, version, "stats.jobs.create", account_id)
        query = parse(call.params, call.account, ASYNC_MAX_DAYS)
        created = controls.clock.now().isoformat().replace("+00:00", "Z")
        file = gzip.compress(json.dumps(answer(call.account, query)).encode())
        job = Job(FIRST_JOB_ID + len(emulator.jobs), call.account.id, query.echo(), created, file)
        emulator.jobs[job.id] = job
        return call.answer({"data": job.json("QUEUED", None)})

    @app.get("/{version}/stats/jobs/accounts/{account_id}")
    async def job_get(version: str, account_id: str, request: Request) -> Any:
        call = await gate(request, version, "stats.jobs.get", account_id)
        ids = set(filter(None, call.params.get("job_ids", "").split(",")))
        rows = []
        for job in emulator.jobs.values():
            if job.account_id != call.account.id or (ids and str(job.id) not in ids):
                continue
            job.polls += 1
            if job.polls <= emulator.job_polls_before_success:
                rows.append(job.json("PROCESSING", None))
                continue
            url = f"{str(request.base_url).rstrip('/')}/sandbox/downloads/{job.id}.json.gz"
            rows.append(job.json("SUCCESS", url))
        return call.page(rows)

    @app.get("/sandbox/downloads/{job_id}.json.gz")
    async def download(job_id: int) -> Response:
        controls.calls.record("download")
        job = emulator.jobs.get(job_id)
        if job is None:
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        return Response(job.file, media_type="application/gzip")

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def unknown(path: str) -> Any:
        raise XError(404, "ROUTE_NOT_FOUND", "The requested resource could not be found")

    return app


def account_json(found: Account) -> dict[str, Any]:
    created = f"{found.created}T14:02:11Z"
    row: dict[str, Any] = dict(
        id=found.id, name=found.name, timezone=found.timezone, created_at=created
    )
    row |= dict(timezone_switch_at=created, approval_status="ACCEPTED", deleted=False)
    return {**row, "business_id": None, "business_name": None, "industry_type": "RETAIL"}
