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
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.google import MISSING_CREDENTIAL_MESSAGE, GoogleError, bearer_token

PAGE_SIZE = 10_000
FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure"
PERMISSION_MESSAGE = (
    "User doesn't have permission to access customer. Note: If you're accessing a client "
    "customer, the manager's customer id must be set in the 'login-customer-id' header. "
    "See https://developers.google.com/google-ads/api/docs/concepts/call-structure#cid"
)


class AdsError(GoogleError):
    """A refusal in Google's envelope, with a GoogleAdsFailure (error code `kind`: `value`)
    in its details when it has a kind."""

    def __init__(
        self,
        code: int,
        message: str,
        kind: str = "",
        value: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code)
        self.kind, self.value, self.details = kind, value, details

    def failure_body(self, version: str) -> dict[str, Any]:
        body = self.body()
        if self.kind:
            failure: dict[str, Any] = {
                "errorCode": {self.kind: self.value},
                "message": self.message,
            }
            if self.details:
                failure["details"] = self.details
            if self.code == 400:
                body["error"]["message"] = "Request contains an invalid argument."
            body["error"]["details"] = [
                {
                    "@type": FAILURE_TYPE.format(version=version),
                    "errors": [failure],
                    "requestId": uuid.uuid4().hex[:22],
                }
            ]
        return body


@dataclass
class GoogleAdsEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)


def create_app(emulator: GoogleAdsEmulator) -> FastAPI:
    app = FastAPI(title="Google Ads API (sandbox)", docs_url=None, redoc_url=None)
    controls = emulator.controls

    def gate(request: Request, version: str, endpoint: str) -> None:
        controls.calls.record(endpoint)
        today = controls.clock.now().date()
        # Requests fail from a sunset day on; release dates are not enforced (a clock set
        # in the past still gets today's versions).
        retired, served = data.RETIRED.get(version), data.VERSIONS.get(version)
        if (retired and today >= retired) or (
            not retired and (served is None or today > served["sunset"])
        ):
            raise AdsError(501, "GRPC target method can't be resolved.")
        fault = controls.token_fault(bearer_token(request))
        if fault is TokenFault.MISSING:
            raise AdsError(401, MISSING_CREDENTIAL_MESSAGE)
        if fault is TokenFault.REVOKED:
            raise AdsError(403, PERMISSION_MESSAGE, "authorizationError", "USER_PERMISSION_DENIED")
        if fault is not None:
            code = "OAUTH_TOKEN_EXPIRED" if fault is TokenFault.EXPIRED else "OAUTH_TOKEN_INVALID"
            raise AdsError(
                401, "Request had invalid authentication credentials.", "authenticationError", code
            )
        if not request.headers.get("developer-token"):
            raise AdsError(
                400,
                "The developer token is not in the request header.",
                "requestError",
                "DEVELOPER_TOKEN_PARAMETER_MISSING",
            )
        if controls.should_fail():
            raise AdsError(503, "The service is currently unavailable.")
        if controls.should_rate_limit():
            delay = controls.switches.retry_after_seconds
            raise AdsError(
                429,
                "Too many requests. Retry in a little while.",
                "quotaError",
                "RESOURCE_TEMPORARILY_EXHAUSTED",
                {
                    "quotaErrorDetails": {
                        "rateScope": "ACCOUNT",
                        "rateName": "Requests per account",
                        "retryDelay": f"{delay}s",
                    }
                },
            )

    def customer(request: Request, cid: str) -> str:
        """The customer if the login reaches it: directly, or below login-customer-id."""
        login = (request.headers.get("login-customer-id") or "").replace("-", "")
        if cid not in data.CUSTOMERS or (login and login not in data.ACCESSIBLE):
            raise AdsError(403, PERMISSION_MESSAGE, "authorizationError", "USER_PERMISSION_DENIED")
        below = {c["client"]["id"] for c in gaql._entities(login, "client")} if login else set()
        if cid not in below and not (not login and cid in data.ACCESSIBLE):
            raise AdsError(403, PERMISSION_MESSAGE, "authorizationError", "USER_PERMISSION_DENIED")
        return cid

    async def query_of(request: Request) -> tuple[gaql.Query, dict[str, Any]]:
        try:
            body = await request.json()
        except ValueError:
            raise AdsError(400, "Invalid JSON payload received.") from None
        if not isinstance(body, dict) or not body.get("query"):
            raise AdsError(400, "Query is empty.", "queryError", "QUERY_NOT_SPECIFIED")
        if "pageSize" in body:
            raise AdsError(
                400,
                "Setting the page size is not supported.",
                "requestError",
                "PAGE_SIZE_NOT_SUPPORTED",
            )
        try:
            return gaql.parse(str(body["query"])), body
        except (gaql.QueryError, IndexError, ValueError) as exc:
            code = exc.code if isinstance(exc, gaql.QueryError) else "BAD_VALUE"
            raise AdsError(400, f"Error in query: {exc}", "queryError", code) from None

    def rows_of(cid: str, query: gaql.Query) -> list[dict[str, Any]]:
        try:
            return gaql.run(cid, query, controls.clock.now())
        except gaql.QueryError as exc:
            raise AdsError(400, exc.message, "queryError", exc.code) from None
        except ValueError as exc:
            raise AdsError(400, f"Invalid value: {exc}", "queryError", "BAD_VALUE") from None

    @app.exception_handler(AdsError)
    async def refused(request: Request, exc: Exception) -> JSONResponse:
        """The envelope; searchStream writes it as its one message."""
        assert isinstance(exc, AdsError)
        body = exc.failure_body(request.path_params.get("version", "v26"))
        stream = request.url.path.endswith(":searchStream")
        return JSONResponse([body] if stream else body, status_code=exc.code)

    @app.post("/{version}/customers/{cid}/googleAds:searchStream")
    async def search_stream(version: str, cid: str, request: Request) -> JSONResponse:
        gate(request, version, "googleAds.searchStream")
        query, _ = await query_of(request)
        rows = rows_of(customer(request, cid), query)
        request_id = uuid.uuid4().hex[:22]
        batches = [rows[i : i + PAGE_SIZE] for i in range(0, len(rows), PAGE_SIZE)] or [[]]
        mask = gaql.field_mask(query)
        return JSONResponse(
            [
                {**({"results": b} if b else {}), "fieldMask": mask, "requestId": request_id}
                for b in batches
            ]
        )

    @app.post("/{version}/customers/{cid}/googleAds:search")
    async def search(version: str, cid: str, request: Request) -> JSONResponse:
        gate(request, version, "googleAds.search")
        query, body = await query_of(request)
        rows = rows_of(customer(request, cid), query)
        offset = int(body.get("pageToken") or 0)
        page = rows[offset : offset + PAGE_SIZE]
        out: dict[str, Any] = {"fieldMask": gaql.field_mask(query)}
        if page:
            out["results"] = page
        if offset + PAGE_SIZE < len(rows):
            out["nextPageToken"] = str(offset + PAGE_SIZE)
        if body.get("returnTotalResultsCount"):
            out["totalResultsCount"] = str(len(rows))
        return JSONResponse(out)

    @app.get("/{version}/customers:listAccessibleCustomers")
    async def accessible(version: str, request: Request) -> JSONResponse:
        gate(request, version, "customers.listAccessibleCustomers")
        return JSONResponse({"resourceNames": [f"customers/{c}" for c in data.ACCESSIBLE]})

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            AdsError(404, f"The requested URL {request.url.path} was not found.").body(),
            status_code=404,
        )

    return app
