"""The plain JSON REST family (shop platforms, e-mail and CRM tools...): an API key or
bearer token, errors as {"error": {"code", "message"}} with the HTTP status, 429 with
Retry-After, numbered pages with a Link header (`paging.page_number_page`).

`RestGate.admit` runs what every call goes through, in order: call counter, latency,
token rule, rate-limit and server-error switches. An emulator of the family is its
routes calling `admit` first, and its data.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault


class RestError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def credential(request: Request, header: str = "X-Api-Key") -> str | None:
    """The request's key: the API key header, else an `Authorization: Bearer` token."""
    key = request.headers.get(header)
    if key:
        return key.strip()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def token_error(fault: TokenFault) -> RestError:
    if fault is TokenFault.MISSING:
        return RestError(401, "unauthorized", "An API key or bearer token is required.")
    if fault is TokenFault.EXPIRED:
        return RestError(401, "token_expired", "The access token has expired.")
    if fault is TokenFault.REVOKED:
        return RestError(403, "forbidden", "The key no longer has access to this account.")
    return RestError(401, "unauthorized", "The API key is not valid.")


class RestGate:
    def __init__(self, controls: SandboxControls, key_header: str = "X-Api-Key") -> None:
        self.controls = controls
        self.key_header = key_header

    async def admit(self, request: Request, endpoint: str) -> None:
        """Raise the RestError a call gets before the network looks at it, if any."""
        wait = str(self.controls.switches.retry_after_seconds)
        await self.controls.admit(
            endpoint,
            credential(request, self.key_header),
            token_error,
            lambda: RestError(429, "rate_limited", "Too many requests.", {"Retry-After": wait}),
            lambda: RestError(503, "unavailable", "The service is temporarily unavailable."),
        )
