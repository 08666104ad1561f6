"""ASGI middleware: request id, access log, body size limit, rate-limit headers."""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.access")

_REQUEST_ID_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")[:64]
            if text and set(text) <= _REQUEST_ID_OK:
                return text
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Binds a request id to every log line of the request and answers it back."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                rate: dict[str, Any] | None = scope["state"].get("rate_limit_headers")
                if rate:
                    headers.extend((k.encode(), str(v).encode()) for k, v in rate.items())
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if self.access_log:
                # The path only: query strings may carry session ids or codes.
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=_loggable_path(scope.get("path", "")),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    merchant=scope["state"].get("merchant_uuid"),
                )
            structlog.contextvars.clear_contextvars()


def _loggable_path(path: str) -> str:
    # Connect-session links are capabilities: keep them out of the logs.
    if path.startswith("/customer-integrations/session/"):
        return "/customer-integrations/session/[redacted]"
    return path


class BodySizeLimitMiddleware:
    """413 for bodies over the limit, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await _send_413(send)
                    return
        received = 0
        too_large = False
        answered = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Look like a dropped client to the app; the 413 is sent below.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if too_large:
                if not answered:
                    answered = True
                    await _send_413(send)
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not answered:
            await _send_413(send)


async def _send_413(send: Send) -> None:
    body = b'{"message":"Request body too large"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
