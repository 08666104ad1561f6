"""The Google APIs family (Analytics Data/Admin, Ads, Search Console...): the error
envelope {"error": {"code", "message", "status"}}, OAuth bearer tokens and the sandbox
token rule in Google's words."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from metrics_connect.sandbox.kit.controls import TokenFault

STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
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


class GoogleError(Exception):
    """A request the API refuses, answered with Google's error envelope."""

    def __init__(self, message: str, code: int = 400, status: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status or STATUS[code]

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}

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


def answer_unknown_paths(app: FastAPI) -> None:
    """Unknown URLs answer 404 in the envelope, as Google's front ends do."""

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return google_error(404, f"The requested URL {request.url.path} was not found.")
