"""APIs that answer every call with HTTP 200 and an envelope `{"code", "message",
"request_id", "data"}`: code 0 is success, a business error keeps HTTP 200 and says what
in `code` (40001 no permission, 40002 invalid parameter, 40100 too many requests, 40104
no access token, 40105 a token invalid, expired or revoked by the user, 50000 system
error); an unknown path is a real 404 with code 40400. The access token comes in an
`Access-Token` header; the OAuth token endpoint answers in the same envelope (40101 a
wrong app, 40110 a refused code). Its parameters: `code_params`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault

OK, NO_PERMISSION, INVALID_PARAMETER, RATE_LIMITED = 0, 40001, 40002, 40100
NO_TOKEN, BAD_TOKEN, SYSTEM_ERROR, NOT_FOUND = 40104, 40105, 50000, 40400
OAUTH_ERRORS = {"invalid_client": 40101, "invalid_grant": 40110}


class CodeError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def envelope(code: int, message: str, data: Any = None) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "request_id": secrets.token_hex(12),
        "data": data if data is not None else {},
    }
    return JSONResponse(body)


async def admit(
    controls: SandboxControls, request: Request, endpoint: str, revoked: str, too_many: str
) -> None:
    """The kit's gate with the family's codes; `revoked` and `too_many` are the network's
    own messages for a token without the permission and for the rate-limit switch."""

    def token_error(fault: TokenFault) -> CodeError:
        if fault is TokenFault.MISSING:
            return CodeError(NO_TOKEN, "Access token is null, please check.")
        if fault is TokenFault.REVOKED:
            return CodeError(NO_PERMISSION, revoked)
        return CodeError(BAD_TOKEN, "Access token is incorrect or has been revoked.")

    await controls.admit(
        endpoint,
        request.headers.get("access-token"),
        token_error,
        lambda: CodeError(RATE_LIMITED, too_many),
        lambda: CodeError(SYSTEM_ERROR, "System error, please retry later."),
    )


Handler = Callable[[Request], Awaitable[Response]]


def route(
    path: str,
    endpoint: str,
    handler: Handler,
    admit: Callable[[Request, str], Awaitable[None]],
    method: str = "GET",
    *,
    invalid_values: bool = False,
) -> Route:
    """A route admitting each call, then answering the handler's response or its
    refusal's envelope (`invalid_values`: a ValueError is an invalid parameter too)."""
    refused: tuple[type[Exception], ...] = (
        (CodeError, ValueError) if invalid_values else (CodeError,)
    )

    async def serve(request: Request) -> Response:
        try:
            await admit(request, endpoint)
            return await handler(request)
        except refused as exc:
            if isinstance(exc, CodeError):
                return envelope(exc.code, exc.message)
            return envelope(INVALID_PARAMETER, f"Invalid parameter: {exc}")

    return Route(path, serve, methods=[method])


async def unknown(request: Request) -> JSONResponse:
    body = {"code": NOT_FOUND, "message": f"Not found: {request.url.path}", "data": {}}
    return JSONResponse(body, status_code=404)


def unknown_route() -> Route:
    return Route("/{path:path}", unknown, methods=["GET", "POST"])


def oauth_error(kind: str, description: str, status: int) -> Response:
    """The token endpoint's refusal (`error_answer` of the kit's OAuth server)."""
    return envelope(OAUTH_ERRORS.get(kind, INVALID_PARAMETER), description)
