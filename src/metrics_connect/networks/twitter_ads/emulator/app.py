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
TOO_MANY_REQUESTS past 250 calls a window or by the switch; 503 SERVICE_UNAVAILABLE by
the switch. Endpoint names for the call counter: accounts, accounts.get,
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
from metrics_connect.networks.twitter_ads.emulator.data import (
    ACCOUNTS,
    Account,
    account,
    campaigns_of,
)
from metrics_connect.networks.twitter_ads.emulator.stats import (
    ASYNC_MAX_DAYS,
    SYNC_MAX_DAYS,
    XError,
    answer,
    parse,
)
from metrics_connect.sandbox.kit.controls import SandboxControls

VERSIONS = ("11", "12")
WINDOW_SECONDS = 900  # X's rate-limit windows are 15 minutes
CALLS_PER_WINDOW = 250  # synchronous stats and reads, per user
FIRST_JOB_ID = 1036633974745329664


@dataclass
class Job:
    id: int
    account_id: str
    params: dict[str, Any]
    created: str
    file: bytes
    polls: int = 0


@dataclass
class XAdsEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    # Polls a job answers PROCESSING before SUCCESS (tests raise it).
    job_polls_before_success: int = 0
    jobs: dict[int, Job] = field(default_factory=dict)
    window_calls: dict[int, int] = field(default_factory=dict)


def create_app(emulator: XAdsEmulator) -> FastAPI:
    app = FastAPI(title="X Ads API (sandbox)", docs_url=None, redoc_url=None)
    controls = emulator.controls

    def window(now_epoch: float) -> int:
        return int(now_epoch // WINDOW_SECONDS)

    def limit_headers(remaining: int, reset: int) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(CALLS_PER_WINDOW),
            "x-rate-limit-remaining": str(max(0, remaining)),
            "x-rate-limit-reset": str(reset),
        }

    async def gate(request: Request, version: str, endpoint: str) -> dict[str, str]:
        """Counter, latency, version, OAuth and limits; the rate-limit headers to send."""
        controls.calls.record(endpoint)
        await controls.apply_latency()
        if version not in VERSIONS:
            raise XError(404, "NOT_FOUND", f"Version {version} of the Ads API is not served")
        auth.check(request, await request.body(), controls)
        now = controls.clock.now().timestamp()
        slot = window(now)
        used = emulator.window_calls.get(slot, 0) + 1
        emulator.window_calls = {slot: used}
        reset = (slot + 1) * WINDOW_SECONDS
        if controls.should_rate_limit():
            wait = controls.switches.retry_after_seconds
            raise RateLimited(limit_headers(0, int(now) + wait))
        if used > CALLS_PER_WINDOW:
            raise RateLimited(limit_headers(0, reset))
        if controls.should_fail():
            raise XError(503, "SERVICE_UNAVAILABLE", "Service unavailable")
        return limit_headers(CALLS_PER_WINDOW - used, reset)

    async def params_of(request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params |= {k: str(v) for k, v in form.items()}
        return params

    def own(account_id: str) -> Account:
        found = account(account_id)
        if found is None:
            raise XError(404, "NOT_FOUND", f"Account {account_id} was not found")
        return found

    def answered(body: dict[str, Any], headers: dict[str, str], params: dict[str, str]) -> Any:
        return JSONResponse({**body, "request": {"params": params}}, headers=headers)

    @app.exception_handler(XError)
    async def x_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, XError)
        return JSONResponse(exc.body(dict(request.query_params)), status_code=exc.status)

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RateLimited)
        error = XError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded")
        return JSONResponse(error.body({}), status_code=429, headers=exc.headers)

    @app.get("/{version}/accounts")
    async def accounts(version: str, request: Request) -> Any:
        headers = await gate(request, version, "accounts")
        params = dict(request.query_params)
        rows = [account_json(a) for a in ACCOUNTS]
        return answered(page(rows, params), headers, params)

    @app.get("/{version}/accounts/{account_id}")
    async def account_get(version: str, account_id: str, request: Request) -> Any:
        headers = await gate(request, version, "accounts.get")
        body = {"data": account_json(own(account_id))}
        return answered(body, headers, dict(request.query_params))

    @app.get("/{version}/accounts/{account_id}/funding_instruments")
    async def funding(version: str, account_id: str, request: Request) -> Any:
        headers = await gate(request, version, "funding_instruments")
        found, params = own(account_id), dict(request.query_params)
        instrument = {
            "id": found.funding_instrument,
            "account_id": found.id,
            "name": f"{found.name} card",
            "type": "CREDIT_CARD",
            "currency": found.currency,
            "entity_status": "ACTIVE",
            "able_to_fund": True,
            "deleted": False,
        }
        return answered(page([instrument], params), headers, params)

    @app.get("/{version}/accounts/{account_id}/campaigns")
    async def campaigns(version: str, account_id: str, request: Request) -> Any:
        headers = await gate(request, version, "campaigns")
        found, params = own(account_id), dict(request.query_params)
        today = controls.clock.now().date()
        wanted = set(filter(None, params.get("campaign_ids", "").split(",")))
        deleted = params.get("with_deleted", "false").lower() == "true"
        rows = []
        for campaign in campaigns_of(found.id):
            gone = campaign.end is not None and campaign.end < today - timedelta(days=365)
            if (wanted and campaign.id not in wanted) or (gone and not deleted):
                continue
            rows.append(
                {
                    "id": campaign.id,
                    "name": campaign.name,
                    "account_id": found.id,
                    "funding_instrument_id": found.funding_instrument,
                    "currency": found.currency,
                    "start_time": f"{campaign.start.isoformat()}T03:00:00Z",
                    "end_time": f"{campaign.end.isoformat()}T03:00:00Z" if campaign.end else None,
                    "entity_status": "ACTIVE" if campaign.end is None else "PAUSED",
                    "deleted": gone,
                }
            )
        return answered(page(rows, params), headers, params)

    @app.get("/{version}/stats/accounts/{account_id}")
    async def stats(version: str, account_id: str, request: Request) -> Any:
        headers = await gate(request, version, "stats")
        found = own(account_id)
        return JSONResponse(
            answer(found, parse(request.query_params, found, SYNC_MAX_DAYS)), headers=headers
        )

    @app.post("/{version}/stats/jobs/accounts/{account_id}")
    async def job_create(version: str, account_id: str, request: Request) -> Any:
        headers = await gate(request, version, "stats.jobs.create")
        found, params = own(account_id), await params_of(request)
        query = parse(params, found, ASYNC_MAX_DAYS)
        job_id = FIRST_JOB_ID + len(emulator.jobs)
        created = controls.clock.now().isoformat().replace("+00:00", "Z")
        file = gzip.compress(json.dumps(answer(found, query)).encode())
        job = Job(job_id, found.id, query.echo(), created, file)
        emulator.jobs[job_id] = job
        body = {"data": job_json(job, "QUEUED", None)}
        return answered(body, headers, params)

    @app.get("/{version}/stats/jobs/accounts/{account_id}")
    async def job_get(version: str, account_id: str, request: Request) -> Any:
        headers = await gate(request, version, "stats.jobs.get")
        found, params = own(account_id), dict(request.query_params)
        ids = {i for i in params.get("job_ids", "").split(",") if i}
        rows = []
        for job in emulator.jobs.values():
            if job.account_id != found.id or (ids and str(job.id) not in ids):
                continue
            job.polls += 1
            done = job.polls > emulator.job_polls_before_success
            url = f"{str(request.base_url).rstrip('/')}/sandbox/downloads/{job.id}.json.gz"
            rows.append(job_json(job, "SUCCESS" if done else "PROCESSING", url if done else None))
        return answered(page(rows, params), headers, params)

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


class RateLimited(Exception):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("rate limited")
        self.headers = headers


def account_json(found: Account) -> dict[str, Any]:
    return {
        "id": found.id,
        "name": found.name,
        "timezone": found.timezone,
        "timezone_switch_at": f"{found.created.isoformat()}T07:00:00Z",
        "created_at": f"{found.created.isoformat()}T14:02:11Z",
        "approval_status": "ACCEPTED",
        "deleted": False,
        "business_id": None,
        "business_name": None,
        "industry_type": "RETAIL",
    }


def job_json(job: Job, status: str, url: str | None) -> dict[str, Any]:
    return {
        **job.params,
        "id": job.id,
        "id_str": str(job.id),
        "status": status,
        "url": url,
        "segmentation_type": None,
        "country": None,
        "platform": None,
        "created_at": job.created,
        "updated_at": job.created,
        "expires_at": None,
    }


def page(rows: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
    """Cursor paging as X's listings do it: `count` (1..1000, 200 by default) and `cursor`
    (the offset, opaque to clients), `next_cursor` null on the last page."""
    try:
        count = max(1, min(1000, int(params.get("count") or 200)))
        offset = int(params.get("cursor") or 0)
    except ValueError:
        raise XError(400, "INVALID_PARAMETER", "count and cursor must be numbers") from None
    chunk = rows[offset : offset + count]
    following = offset + count if offset + count < len(rows) else None
    body: dict[str, Any] = {"data": chunk, "next_cursor": str(following) if following else None}
    if params.get("with_total_count", "").lower() == "true":
        body["total_count"] = len(rows)
    return body
