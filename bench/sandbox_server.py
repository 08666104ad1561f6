"""The Instagram emulator in its own process, for benchmarks.

Serves the Graph API emulator on 127.0.0.1 with a fixed latency per upstream call, plus
a small control API under /__bench/ so the benchmark (another process) can read and
reset the call counters and flip fault switches:

- GET  /__bench/calls    {"http_requests", "endpoint_calls", "by_endpoint"}
- POST /__bench/reset    zero both counters
- POST /__bench/switches {"latency_seconds"?, "server_error_ratio"?, "rate_limit_ratio"?}
- GET  /__bench/media?start=YYYY-MM-DD&end=YYYY-MM-DD   the account's posts and reels
       posted on the local days start..end (`in_span`), after them until now (`newer`)
       and before them (`older`), and its live stories (`stories_live`, of which
       `stories_in_span` on those days): the ground truth of a listing's pages

`http_requests` counts HTTP requests that reached the emulator (a Graph batch is one);
`endpoint_calls` is the emulator's own CallCounter, which counts every operation inside
a batch as well.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from metrics_connect.sandbox.registry import SandboxNetwork, build_sandbox

SWITCHES = ("latency_seconds", "server_error_ratio", "rate_limit_ratio")


class CountingApp:
    """Counts the HTTP requests that reach the emulator."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests += 1
        await self.app(scope, receive, send)


def control_app(network: SandboxNetwork) -> Starlette:
    counting = CountingApp(network.app)
    controls = network.controls

    async def calls(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "http_requests": counting.requests,
                "endpoint_calls": controls.calls.total,
                "by_endpoint": dict(controls.calls.by_endpoint),
            }
        )

    async def reset(_request: Request) -> JSONResponse:
        counting.requests = 0
        controls.calls.reset()
        return JSONResponse({"ok": True})

    async def switches(request: Request) -> JSONResponse:
        body: dict[str, Any] = await request.json()
        for name in SWITCHES:
            if name in body:
                setattr(controls.switches, name, float(body[name]))
        return JSONResponse({name: getattr(controls.switches, name) for name in SWITCHES})

    async def media(request: Request) -> JSONResponse:
        if not isinstance(network, InstagramSandboxNetwork):
            return JSONResponse({"error": "not the Instagram emulator"}, status_code=404)
        try:
            start = date.fromisoformat(request.query_params["start"])
            end = date.fromisoformat(request.query_params["end"])
        except (KeyError, ValueError):
            return JSONResponse({"error": "start and end: YYYY-MM-DD"}, status_code=422)
        return JSONResponse(media_counts(network, start, end))

    return Starlette(
        routes=[
            Route("/__bench/calls", calls),
            Route("/__bench/media", media),
            Route("/__bench/reset", reset, methods=["POST"]),
            Route("/__bench/switches", switches, methods=["POST"]),
            Mount("/", app=counting),
        ]
    )


def media_counts(network: InstagramSandboxNetwork, start: date, end: date) -> dict[str, int]:
    """What a listing of the account's media and stories meets, by the emulator's data."""
    sandbox = network.sandbox
    first, after = sandbox.day_start(start), sandbox.day_start(end + timedelta(days=1))
    stories = sandbox.live_stories()
    return {
        "in_span": len(sandbox.media(first, after)),
        "newer": len(sandbox.media(after)),
        "older": len(sandbox.media(None, first)),
        "stories_live": len(stories),
        "stories_in_span": sum(
            1 for s in stories if start <= sandbox.local_day(s.timestamp) <= end
        ),
    }


def precompute(network: InstagramSandboxNetwork) -> None:
    """The account's history worked out before serving: a network's figures exist before
    anyone asks, so the emulator's first computation of a day must not add to the
    latency it stands for (it answers one call at a time)."""
    sandbox = network.sandbox
    day, today = sandbox.created, sandbox.today()
    while day <= today:
        sandbox.figures(day)
        day += timedelta(days=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    network = build_sandbox("instagram_business")
    network.controls.switches.latency_seconds = args.latency_ms / 1000
    if isinstance(network, InstagramSandboxNetwork):
        precompute(network)
    uvicorn.run(
        control_app(network),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
