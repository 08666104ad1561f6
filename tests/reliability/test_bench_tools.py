"""The benchmark's own arithmetic and bookkeeping (bench/): critical path, percentiles,
its section of BENCHMARKS.md, the load loop's bounds and the memory reading."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from bench import report
from bench.load import closed_loop, percentile
from bench.scenarios import call_kind, critical_path_calls, widget_outcomes
from bench.stack import peak_rss_mb
from bench.widgets import dashboard_request, predefined_widgets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def test_critical_path_schedules_chains_on_the_fetch_slots() -> None:
    assert critical_path_calls([], 4) == 0
    assert critical_path_calls([2, 2, 2, 2], 4) == 2  # all at once
    assert critical_path_calls([2] * 8, 4) == 4  # two rounds
    assert critical_path_calls([10, 1, 1, 1], 4) == 10  # the longest chain
    # Longest first: 3 | 3, then 2s on the least loaded: 3+2+2 | 3+2 -> 7 (never below
    # the bounds: the longest chain, and total calls / slots).
    assert critical_path_calls([3, 3, 2, 2, 2], 2) == 7
    assert critical_path_calls([5, 4, 3, 3, 3], 1) == 18


def test_percentiles_interpolate_between_ranks() -> None:
    samples = [float(v) for v in range(1, 101)]
    assert percentile(samples, 50) == pytest.approx(50.5)
    assert percentile(samples, 95) == pytest.approx(95.05)
    assert percentile([7.0], 99) == 7.0


def test_call_kinds_and_widget_outcomes() -> None:
    assert call_kind("batch") == "batch"
    assert call_kind("17841400000000001/media") == "list page"
    assert call_kind("17841400000000001/insights") == "direct"
    outcomes = widget_outcomes(
        {"a": {"values": 1}, "b": {"error": {"code": "upstream_error"}}, "c": {"labels": []}}
    )
    assert outcomes == {"ok": 2, "error:upstream_error": 1}


def test_dashboard_request_covers_every_predefined_widget_with_unique_ids() -> None:
    from datetime import date

    body = dashboard_request("integration", date(2026, 1, 10), days=365)
    ids = [w["id"] for w in body["metrics"]]
    assert len(ids) == len(predefined_widgets()) == 87
    assert len(set(ids)) == 87
    assert (body["start"], body["end"]) == ("2025-01-10", "2026-01-09")
    assert (body["comparison_start"], body["comparison_end"]) == ("2024-01-11", "2025-01-09")


def test_benchmarks_section_replaced_and_other_sections_kept(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n<!-- other: start -->\nkeep me\n<!-- other: end -->\n")
    results = {
        "command": "bench/run.py --quick",
        "latency_ms": 100.0,
        "machine": {**report.machine(), "load_average_at_end": [1.0, 1.0, 1.0]},
        "warm": {
            "load": {
                "latency": {"count": 3, "p50_ms": 10.0, "p95_ms": 12.0, "p99_ms": 13.0},
                "errors": 0,
            },
            "upstream_http_requests": 0,
            "same_answer_as_cold": True,
        },
    }
    report.record(results, path, "first notes")
    report.record(results, path, "second notes")
    text = path.read_text()
    assert "keep me" in text
    assert text.count(report.SECTION_START) == 1
    assert "second notes" in text and "first notes" not in text
    assert "| warm: same request x 3, p50 / p95 / p99 | 10.0 / 12.0 / 13.0 ms |" in text


async def test_closed_loop_is_bounded_and_counts_errors() -> None:
    calls = 0

    async def endpoint(_request: Request) -> JSONResponse:
        nonlocal calls
        calls += 1
        return JSONResponse({}, status_code=200 if calls % 2 else 503)

    app = Starlette(routes=[Route("/x", endpoint)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        result = await closed_loop(http, "GET", "/x", concurrency=4, max_requests=10)
    assert result.requests == 10 == calls
    assert result.errors == 5
    assert result.statuses == {"200": 5, "503": 5}


def test_peak_rss_reads_this_process() -> None:
    peak = peak_rss_mb(os.getpid())
    assert peak is not None and peak > 10


async def test_raw_load_loop_speaks_http_over_loopback() -> None:
    import asyncio

    import uvicorn
    from bench.load import raw_closed_loop

    from tests.reliability.gate import free_port

    seen: list[bytes] = []

    async def endpoint(request: Request) -> JSONResponse:
        seen.append(await request.body())
        ok = request.headers.get("x-token") == "t"
        return JSONResponse({"ok": ok}, status_code=200 if ok else 401)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/x", endpoint, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        good = await raw_closed_loop(
            f"http://127.0.0.1:{port}",
            "POST",
            "/x",
            concurrency=3,
            duration=0.3,
            headers={"x-token": "t"},
            json_body={"a": 1},
        )
        bad = await raw_closed_loop(
            f"http://127.0.0.1:{port}",
            "POST",
            "/x",
            concurrency=2,
            duration=0.2,
            json_body={"a": 1},
        )
    finally:
        server.should_exit = True
        await serving
    assert good.requests > 10 and good.errors == 0 and good.statuses == {"200": good.requests}
    assert bad.errors == bad.requests > 0 and set(bad.statuses) == {"401"}
    assert set(seen) == {b'{"a": 1}'}
    with pytest.raises(ValueError):
        await raw_closed_loop("http://10.0.0.1:80", "GET", "/", concurrency=1, duration=0.1)
