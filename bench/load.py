"""The load client: an asyncio loop over one pooled httpx client, bounded in requests
and in time, loopback only."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class LatencySummary:
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> LatencySummary:
        ms = [s * 1000 for s in seconds]
        return cls(
            count=len(ms),
            p50_ms=percentile(ms, 50),
            p95_ms=percentile(ms, 95),
            p99_ms=percentile(ms, 99),
            mean_ms=statistics.fmean(ms) if ms else float("nan"),
            max_ms=max(ms) if ms else float("nan"),
        )


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    statuses: dict[str, int]
    latency: LatencySummary
    error_samples: list[str] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds > 0 else 0.0


def client(base_url: str, connections: int) -> httpx.AsyncClient:
    if not base_url.startswith(("http://127.0.0.1", "http://localhost")):
        raise ValueError("benchmarks talk to loopback only")
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0)


async def sequential(
    http: httpx.AsyncClient, method: str, path: str, count: int, **kwargs: Any
) -> LoadResult:
    """`count` requests one after the other: per-request latency."""
    return await closed_loop(http, method, path, concurrency=1, max_requests=count, **kwargs)


async def closed_loop(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    concurrency: int,
    duration: float | None = None,
    max_requests: int | None = None,
    ok: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200,
    **kwargs: Any,
) -> LoadResult:
    """`concurrency` clients, each sending its next request when the last one answered,
    until `duration` seconds or `max_requests` requests (whichever comes first)."""
    if duration is None and max_requests is None:
        raise ValueError("bound the load by duration or by requests")
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    samples: list[str] = []
    errors = 0
    sent = 0
    started = time.perf_counter()
    deadline = started + duration if duration is not None else float("inf")

    async def one_client() -> None:
        nonlocal errors, sent
        while time.perf_counter() < deadline and (max_requests is None or sent < max_requests):
            sent += 1
            t0 = time.perf_counter()
            try:
                response = await http.request(method, path, **kwargs)
                await response.aread()
            except httpx.HTTPError as exc:
                errors += 1
                statuses[type(exc).__name__] += 1
                if len(samples) < 5:
                    samples.append(repr(exc))
                continue
            latencies.append(time.perf_counter() - t0)
            statuses[str(response.status_code)] += 1
            if not ok(response):
                errors += 1
                if len(samples) < 5:
                    samples.append(f"{response.status_code}: {response.text[:300]}")

    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return _result(latencies, statuses, errors, samples, started)


async def raw_closed_loop(
    base_url: str,
    method: str,
    path: str,
    *,
    concurrency: int,
    duration: float,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
) -> LoadResult:
    """Like closed_loop, over one keep-alive HTTP/1.1 connection per client written with
    asyncio streams: the load generator's own cost per request stays far below the
    service's (httpx's pool costs a few ms per request at 32 connections, which would
    make the client the bottleneck of a throughput test on 2 cores)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError("benchmarks talk to loopback only")
    payload = json.dumps(json_body).encode() if json_body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if payload:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    samples: list[str] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + duration

    async def one_client() -> None:
        nonlocal errors
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                writer.write(request)
                await writer.drain()
                status, close, body = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors += 1
                statuses[type(exc).__name__] += 1
                if len(samples) < 5:
                    samples.append(repr(exc))
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            latencies.append(time.perf_counter() - t0)
            statuses[str(status)] += 1
            if status != 200:
                errors += 1
                if len(samples) < 5:
                    samples.append(f"{status}: {body[:300]!r}")
            if close:
                assert writer is not None
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return _result(latencies, statuses, errors, samples, started)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """(status, connection closes, body) of one HTTP/1.1 response."""
    status_line = await reader.readline()
    if not status_line:
        raise asyncio.IncompleteReadError(b"", None)
    status = int(status_line.split()[1])
    length: int | None = None
    chunked = close = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif key == b"connection" and b"close" in value.lower():
            close = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return status, close, body
    return status, close, await reader.readexactly(length or 0)


def _result(
    latencies: list[float],
    statuses: Counter[str],
    errors: int,
    samples: list[str],
    started: float,
) -> LoadResult:
    """A load's figures; statuses that are not HTTP codes (connection errors) count as
    requests that got no latency."""
    return LoadResult(
        requests=len(latencies) + sum(v for k, v in statuses.items() if not k.isdigit()),
        errors=errors,
        seconds=time.perf_counter() - started,
        statuses=dict(statuses),
        latency=LatencySummary.of(latencies),
        error_samples=samples,
    )
