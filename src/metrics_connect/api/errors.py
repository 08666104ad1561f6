"""The error format of API.md: JSON always, {"message", "errors"?}, never a trace."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from metrics_connect.accounts.lifecycle import IntegrationInactive, IntegrationNotFound
from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.api")

STATUS_MESSAGES = {
    400: "Bad Request",
    401: "Unauthenticated.",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported Media Type",
    422: "The given data was invalid.",
    429: "Too Many Attempts.",
    500: "Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """An error answered as {"message": ..., **extra} with a status code."""

    def __init__(
        self,
        status_code: int,
        message: str,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.extra = extra or {}
        self.headers = headers


def error_response(
    status_code: int,
    message: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"message": message or STATUS_MESSAGES.get(status_code, "Error")}
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status_code, headers=headers)


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_errors(exc: RequestValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            errors.setdefault("body", []).append("The body is not valid JSON.")
            continue
        loc = tuple(err.get("loc", ()))
        msg = str(err.get("msg", "Invalid value."))
        if err.get("type") == "missing":
            msg = "This field is required."
        errors.setdefault(field_path(loc), []).append(msg)
    return errors


def validation_message(errors: dict[str, list[str]]) -> str:
    total = sum(len(v) for v in errors.values())
    first_key, first_msgs = next(iter(errors.items()))
    message = f"{first_key}: {first_msgs[0]}"
    if total > 1:
        message += f" (and {total - 1} more error{'s' if total > 2 else ''})"
    return message


def unprocessable(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(422, validation_message(errors), {"errors": errors})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.message, exc.extra, exc.headers)

    @app.exception_handler(IntegrationNotFound)
    async def _no_integration(_request: Request, _exc: IntegrationNotFound) -> JSONResponse:
        return error_response(404, "Customer integration not found")

    @app.exception_handler(IntegrationInactive)
    async def _inactive(_request: Request, exc: IntegrationInactive) -> JSONResponse:
        return error_response(
            409,
            f"The integration is {exc.status}; reconnect it to read its metrics.",
            {"status": exc.status},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        if not errors:
            errors = {"body": ["Invalid request."]}
        return error_response(422, validation_message(errors), {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message: str | None = exc.detail if isinstance(exc.detail, str) else None
        if message in {"Not Found", "Method Not Allowed"} or not message:
            message = STATUS_MESSAGES.get(exc.status_code)
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database_unavailable", path=request.url.path, error=type(exc).__name__)
        return error_response(503, "The database is unavailable; try again shortly.")

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            log.error("database_unavailable", path=request.url.path)
            return error_response(503, "The database is unavailable; try again shortly.")
        log.exception("database_error", path=request.url.path)
        return error_response(500)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
        return error_response(500)
