"""A real HTTP webhook receiver on 127.0.0.1 (uvicorn in a thread) for the job tests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import Response


def serve_in_thread(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    """Serve an ASGI app on 127.0.0.1 (a free port) from a daemon thread."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        access_log=False,
        loop="asyncio",  # "auto" would install uvloop's policy for the whole test process
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("loopback server did not start")
        time.sleep(0.01)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    path: str


@dataclass
class Receiver:
    """Answers POSTs with the scripted statuses in order (then `default_status`)."""

    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    # Seconds to wait before answering the n-th request (0-based), if listed.
    delays: dict[int, float] = field(default_factory=dict)
    location: str | None = None  # Location header for 3xx answers
    # The first request waits for this event before answering (a receiver that hangs).
    hold_first: threading.Event | None = None
    received: list[Received] = field(default_factory=list)
    on_request: Callable[[Received], None] | None = None
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/metrics"

    async def _app_call(self, request: Request) -> Response:
        body = await request.body()
        item = Received(dict(request.headers), body, time.monotonic(), request.url.path)
        with self._lock:
            index = len(self.received)
            self.received.append(item)
            status = self.statuses[index] if index < len(self.statuses) else self.default_status
        if self.on_request is not None:
            self.on_request(item)
        delay = self.delays.get(index)
        if delay:
            await asyncio.sleep(delay)
        if index == 0 and self.hold_first is not None:
            await asyncio.to_thread(self.hold_first.wait, 60)
        headers = {"Location": self.location} if self.location and 300 <= status < 400 else {}
        return Response(b"ok", status_code=status, headers=headers)

    async def __call__(self, scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        if scope["type"] != "http":
            return
        response = await self._app_call(Request(scope, receive))  # type: ignore[arg-type]
        await response(scope, receive, send)  # type: ignore[arg-type]

    def start(self) -> Receiver:
        self._server, self._thread, self.port = serve_in_thread(self)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver got {len(self.received)} of {count} requests")
            await asyncio.sleep(0.02)
        return list(self.received)
