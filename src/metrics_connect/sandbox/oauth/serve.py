"""Serve an ASGI app (an emulator, the API) with uvicorn on 127.0.0.1 in a thread.

For the demo and the browser test: the OAuth emulators must be real HTTP servers
there, since the browser follows redirects to them.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


@dataclass
class RunningServer:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def bind_loopback(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def serve_in_background(
    app: ASGIApp,
    *,
    sock: socket.socket | None = None,
    lifespan: Literal["auto", "on", "off"] = "auto",
) -> RunningServer:
    """Start serving on `sock` (default: a free 127.0.0.1 port); returns once listening."""
    sock = sock or bind_loopback()
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan=lifespan, loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    return RunningServer(f"http://{host}:{port}", server, thread)
