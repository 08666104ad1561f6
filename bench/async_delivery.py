"""Async delivery under load: N jobs through POST /metrics/get-data-async to a receiver
on 127.0.0.1 run by this process; deliveries per second and submit-to-delivery latency.

Each job asks for the seed widget under its own id, so the receiver can tell which job
a delivery belongs to from the body alone (the body is exactly the get-data answer).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.load import client, percentile
from bench.stack import BenchTenant, free_port
from bench.widgets import seed_request

SUBMIT_CONCURRENCY = 16
WAIT_SECONDS = 300.0


async def run(api_url: str, tenant: BenchTenant, jobs: int) -> dict[str, Any]:
    arrived: dict[str, float] = {}
    duplicates = 0

    async def receive(request: Request) -> Response:
        nonlocal duplicates
        body = json.loads(await request.body())
        for widget_id in body:
            if widget_id in arrived:
                duplicates += 1
            arrived.setdefault(widget_id, time.perf_counter())
        return Response(status_code=204)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hook", receive, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)

    submitted: dict[str, float] = {}
    refused: list[str] = []
    base = seed_request(tenant.integration)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(jobs):
        queue.put_nowait(i)
    started = time.perf_counter()
    async with client(api_url, SUBMIT_CONCURRENCY) as http:

        async def submitter() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                widget_id = f"bench-job-{i:05d}"
                body = {
                    **base,
                    "metrics": [{**base["metrics"][0], "id": widget_id}],
                    "metrics_webhook_url": f"http://127.0.0.1:{port}/hook",
                }
                submitted[widget_id] = time.perf_counter()
                response = await http.post(
                    "/metrics/get-data-async", json=body, headers=tenant.headers
                )
                if response.status_code != 200:
                    submitted.pop(widget_id)
                    if len(refused) < 5:
                        refused.append(f"{response.status_code}: {response.text[:200]}")

        await asyncio.gather(*(submitter() for _ in range(SUBMIT_CONCURRENCY)))
        submit_seconds = time.perf_counter() - started
        deadline = time.perf_counter() + WAIT_SECONDS
        while time.perf_counter() < deadline and not set(submitted) <= set(arrived):
            await asyncio.sleep(0.1)
    server.should_exit = True
    await serving

    latencies = [arrived[k] - t for k, t in submitted.items() if k in arrived]
    last = max((arrived[k] for k in submitted if k in arrived), default=started)
    delivered = len(latencies)
    return {
        "jobs": jobs,
        "accepted": len(submitted),
        "refused_samples": refused,
        "delivered": delivered,
        "lost": len(submitted) - delivered,
        "duplicates": duplicates,
        "submit_seconds": submit_seconds,
        "seconds": last - started,
        "deliveries_per_second": delivered / (last - started) if delivered else 0.0,
        "p50_seconds": percentile(latencies, 50),
        "p95_seconds": percentile(latencies, 95),
        "max_seconds": max(latencies, default=float("nan")),
    }
