"""The emulated Google Ads API, REST interface (googleads.googleapis.com):

- POST /{version}/customers/{customerId}/googleAds:searchStream   GoogleAdsService.SearchStream
- POST /{version}/customers/{customerId}/googleAds:search         GoogleAdsService.Search
- GET  /{version}/customers:listAccessibleCustomers              CustomerService

Every call needs `Authorization: Bearer` (the sandbox token rule) and a
`developer-token` header; a client account reached through its manager needs
`login-customer-id` (the manager's id, digits only). Versions v23..v26 are served; a
sunset one (v22 and older) answers 501 UNIMPLEMENTED as Google's front end does. Errors
are Google's envelope with a GoogleAdsFailure in `details` (errorCode, message, and for
quota errors `details.quotaErrorDetails.retryDelay`); searchStream writes its answer,
errors included, as a JSON array of messages. `search` pages 10,000 rows with
`nextPageToken` (the page size is fixed since v17: `pageSize` is refused).
Endpoint names for the call counter: googleAds.searchStream, googleAds.search,
customers.listAccessibleCustomers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from metrics_connect.networks.google_ads.emulator import data, gaql
from metrics_connect.networks.google_ads.emulator.refusals import AdsError, refusal
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.google import (
    MISSING_CREDENTIAL_MESSAGE,
    UNAVAILABLE_MESSAGE,
    answer_unknown_paths,
    bearer_token,
)
from metrics_connect.sandbox.kit.paging import page_at
from metrics_connect.sandbox.kit.proto_json import field_mask
from metrics_connect.sandbox.kit.select_query import SelectQuery
from metrics_connect.sandbox.kit.templates import fill

PAGE_SIZE = 10_000


@dataclass
class GoogleAdsEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)


def create_app(emulator: GoogleAdsEmulator) -> FastAPI:
    app = FastAPI(title="Google Ads API (sandbox)", docs_url=None, redoc_url=None)
    controls = emulator.controls

    async def gate(request: Request, version: str, endpoint: str) -> None:
        controls.calls.record(endpoint)
        await controls.apply_latency()
        today = controls.clock.now().date()
        # Requests fail from a sunset day on; release dates are not enforced (a clock set
        # in the past still gets today's versions).
        if version not in data.SUNSETS or today >= data.SUNSETS[version]:
            raise refusal("sunset")
        fault = controls.token_fault(bearer_token(request))
        if fault is TokenFault.MISSING:
            raise AdsError(401, MISSING_CREDENTIAL_MESSAGE)
        if fault is TokenFault.REVOKED:
            raise refusal("permission")
        if fault is not None:
            raise refusal("token_expired" if fault is TokenFault.EXPIRED else "token_invalid")
        if not request.headers.get("developer-token"):
            raise refusal("developer_token")
        if controls.should_fail():
            raise AdsError(503, UNAVAILABLE_MESSAGE)
        if controls.should_rate_limit():
            delay = controls.switches.retry_after_seconds
            raise refusal("quota", fill(data.spec("quota_details"), {"delay": delay}))

    def customer(request: Request, cid: str) -> str:
        """The customer if the login reaches it: directly, or below login-customer-id."""
        login = (request.headers.get("login-customer-id") or "").replace("-", "")
        if cid not in data.CUSTOMERS or (login and login not in data.ACCESSIBLE):
            raise refusal("permission")
        below = {c["client"]["id"] for c in gaql._entities(login, "client")} if login else set()
        if cid not in below and not (not login and cid in data.ACCESSIBLE):
            raise refusal("permission")
        return cid

    async def query_of(request: Request) -> tuple[SelectQuery, dict[str, Any]]:
        try:
            body = await request.json()
        except ValueError:
            raise refusal("bad_json") from None
        if not isinstance(body, dict) or not body.get("query"):
            raise refusal("no_query")
        if "pageSize" in body:
            raise refusal("page_size")
        return gaql.parse(str(body["query"])), body

    def rows_of(cid: str, query: SelectQuery) -> list[dict[str, Any]]:
        try:
            return gaql.run(cid, query, controls.clock.now())
        except ValueError:  # a date or a number that is none; Python's words stay here
            fields = ", ".join(sorted({name for name, _, _ in query.where}))
            raise refusal("bad_value", fields=fields) from None

    @app.exception_handler(AdsError)
    async def refused(request: Request, exc: Exception) -> JSONResponse:
        """The envelope; searchStream writes it as its one message."""
        assert isinstance(exc, AdsError)
        body = exc.failure_body(request.path_params.get("version", "v26"))
        stream = request.url.path.endswith(":searchStream")
        return JSONResponse([body] if stream else body, status_code=exc.code)

    @app.post("/{version}/customers/{cid}/googleAds:searchStream")
    async def search_stream(version: str, cid: str, request: Request) -> JSONResponse:
        await gate(request, version, "googleAds.searchStream")
        query, _ = await query_of(request)
        rows = rows_of(customer(request, cid), query)
        request_id = uuid.uuid4().hex[:22]
        batches = [rows[i : i + PAGE_SIZE] for i in range(0, len(rows), PAGE_SIZE)] or [[]]
        mask = field_mask(query.select)
        return JSONResponse(
            [
                {**({"results": b} if b else {}), "fieldMask": mask, "requestId": request_id}
                for b in batches
            ]
        )

    @app.post("/{version}/customers/{cid}/googleAds:search")
    async def search(version: str, cid: str, request: Request) -> JSONResponse:
        await gate(request, version, "googleAds.search")
        query, body = await query_of(request)
        rows = rows_of(customer(request, cid), query)
        token = str(body.get("pageToken") or 0)
        if not token.isdigit():  # a token is an offset this emulator gave
            raise refusal("page_token")
        page = page_at(rows, int(token), PAGE_SIZE)
        out: dict[str, Any] = {"fieldMask": field_mask(query.select)}
        if page.items:
            out["results"] = list(page.items)
        if page.has_more:
            out["nextPageToken"] = str(page.end)
        if body.get("returnTotalResultsCount"):
            out["totalResultsCount"] = str(len(rows))
        return JSONResponse(out)

    @app.get("/{version}/customers:listAccessibleCustomers")
    async def accessible(version: str, request: Request) -> JSONResponse:
        await gate(request, version, "customers.listAccessibleCustomers")
        return JSONResponse({"resourceNames": [f"customers/{c}" for c in data.ACCESSIBLE]})

    answer_unknown_paths(app)
    return app
