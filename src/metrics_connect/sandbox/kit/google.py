"""The Google APIs family (Analytics Data/Admin, Ads, Search Console...): the error
envelope {"error": {"code", "message", "status"}} (with the older APIs' `errors[].reason`
when given), OAuth bearer tokens, the sandbox token rule in Google's words and the gate
every call goes through (`admit`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault

STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}

MISSING_CREDENTIAL_MESSAGE = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)
UNAUTHENTICATED_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
UNAVAILABLE_MESSAGE = "The service is currently unavailable."


def quota_message(
    service: str, metric: str = "Queries", limit: str = "Queries per minute per user"
) -> str:
    """A per-minute quota's 429 message, as Google's front end writes it."""
    return (
        f"Quota exceeded for quota metric '{metric}' and limit '{limit}' of service "
        f"'{service}'."
    )


class GoogleError(Exception):
    """A request the API refuses, answered with Google's error envelope."""

    def __init__(
        self, message: str, code: int = 400, status: str | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status or STATUS[code]
        self.reason = reason  # the older APIs' errors[].reason (YouTube: "quotaExceeded"...)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.reason:
            error["errors"] = [{"message": self.message, "domain": "global", "reason": self.reason}]
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.code)


def google_error(code: int, message: str, status: str | None = None) -> JSONResponse:
    return GoogleError(message, code, status).response()


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def token_error(fault: TokenFault, permission_message: str) -> GoogleError:
    """401 for a missing, unknown or expired token; 403 for a revoked grant."""
    if fault is TokenFault.MISSING:
        return GoogleError(MISSING_CREDENTIAL_MESSAGE, 401)
    if fault is TokenFault.REVOKED:
        return GoogleError(permission_message, 403)
    return GoogleError(UNAUTHENTICATED_MESSAGE, 401)


async def admit(
    controls: SandboxControls,
    request: Request,
    endpoint: str,
    permission_message: str,
    quota_message: str,
) -> None:
    """Raise the GoogleError a call gets before the API looks at it, if any: call counter,
    latency, the token rule, then the server-error and quota switches."""
    controls.calls.record(endpoint)
    await controls.apply_latency()
    fault = controls.token_fault(bearer_token(request))
    if fault is not None:
        raise token_error(fault, permission_message)
    if controls.should_fail():
        raise GoogleError(UNAVAILABLE_MESSAGE, 503)
    if controls.should_rate_limit():
        raise GoogleError(quota_message, 429)


def answer_google_errors(app: FastAPI, controls: SandboxControls | None = None) -> None:
    """A GoogleError raised by a route answers in the envelope; with `controls`, a 429
    says when to retry (Retry-After, the rate-limit switch's wait)."""

    @app.exception_handler(GoogleError)
    async def refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GoogleError)
        response = exc.response()
        if controls is not None and exc.code == 429:
            response.headers["Retry-After"] = str(controls.switches.retry_after_seconds)
        return response


def answer_unknown_paths(app: FastAPI) -> None:
    """Unknown URLs answer 404 in the envelope, as Google's front ends do."""

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return google_error(404, f"The requested URL {request.url.path} was not found.")
