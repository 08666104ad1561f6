"""The benchmark's measurements, each against a running stack (bench/stack.py).

1. cold:        the 87 predefined Instagram widgets, 365 days with comparison, on an
                empty on-demand cache: wall time, upstream calls against the minimal
                plan (?explain=true's exact calls, and the list pages and batches of
                the posts the emulator really holds: bench/minimal.py), wall / the
                critical path.
2. warm:        the same request again, sequentially: p50/p95/p99.
3. throughput:  the seed request at a fixed concurrency for a fixed time, and GET /healthz
                the same way in the same run (the ratio shows what the request costs
                beyond the framework).
"""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import httpx

from bench.load import LoadResult, raw_closed_loop, sequential
from bench.minimal import PagedFetch, is_paged, minimal_plan
from bench.stack import BenchTenant
from bench.widgets import dashboard_request, seed_request


@dataclass
class SandboxCalls:
    http_requests: int
    endpoint_calls: int
    by_endpoint: dict[str, int]


async def sandbox_calls(sandbox_url: str) -> SandboxCalls:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as http:
        body = (await http.get("/__bench/calls")).json()
    return SandboxCalls(body["http_requests"], body["endpoint_calls"], body["by_endpoint"])


async def sandbox_media(sandbox_url: str, start: str, end: str) -> dict[str, int]:
    """The emulator's posts and stories around start..end (see bench/sandbox_server.py)."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as http:
        answer = await http.get("/__bench/media", params={"start": start, "end": end})
    answer.raise_for_status()
    body: dict[str, int] = answer.json()
    return body


async def reset_sandbox_calls(sandbox_url: str) -> None:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as http:
        (await http.post("/__bench/reset")).raise_for_status()


def critical_path_calls(chains: list[int], slots: int) -> int:
    """Calls in sequence on the longest path: each planned fetch runs its calls one after
    the other, at most `slots` fetches at once (the engine's fetch_concurrency); longest
    chains first. Never less than the longest single chain or ceil(total / slots)."""
    if not chains:
        return 0
    finish = [0] * max(1, slots)
    heapq.heapify(finish)
    for length in sorted(chains, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + length)
    return max(finish)


# The emulator's endpoint names of cursor-paged lists.
LIST_ENDPOINTS = {"media_list", "stories"}


def call_kind(path: str) -> str:
    if path == "batch":
        return "batch"
    if path.endswith(("/media", "/stories")):
        return "list page"
    return "direct"


def widget_outcomes(body: dict[str, Any]) -> dict[str, int]:
    """How many widgets answered, and how many failed with which code."""
    out: Counter[str] = Counter()
    for value in body.values():
        if isinstance(value, dict) and "error" in value:
            out[f"error:{value['error'].get('code')}"] += 1
        else:
            out["ok"] += 1
    return dict(out)


@dataclass
class ColdResult:
    widgets: int
    status: int
    wall_seconds: float
    outcomes: dict[str, int]
    plan_fetches: int
    plan_calls: int
    plan_critical_path_calls: int
    critical_path_seconds: float
    wall_over_critical_path: float | None
    upstream_http_requests: int
    upstream_endpoint_calls: int
    upstream_by_endpoint: dict[str, int]
    fetch_concurrency: int
    latency_ms: float
    plan_by_dataset: dict[str, int] = field(default_factory=dict)
    # Calls by kind, explain vs emulator. The list pages and batches of a paged fetch
    # (posts, stories) are known only once listed: explain estimates them from the
    # store; the rest (insights windows, account fields) are known exactly in advance.
    plan_by_kind: dict[str, int] = field(default_factory=dict)
    upstream_by_kind: dict[str, int] = field(default_factory=dict)
    # The critical path again with the minimal plan's pages and batches.
    critical_path_calls_with_paging: int = 0
    # explain's calls (plan_calls) split into exact and estimated.
    plan_exact_calls: int = 0
    plan_estimated_calls: int = 0
    # The minimal plan: explain's exact calls plus, per paged fetch, the fewest list
    # pages and batches for the posts the emulator really holds (bench/minimal.py).
    minimal_calls: int = 0
    minimal_by_kind: dict[str, int] = field(default_factory=dict)
    minimal_paged: list[dict[str, Any]] = field(default_factory=list)
    calls_equal_minimal: bool = False


async def cold(
    api: httpx.AsyncClient,
    tenant: BenchTenant,
    sandbox_url: str,
    today: date,
    latency_ms: float,
    fetch_concurrency: int,
) -> tuple[ColdResult, dict[str, Any]]:
    body = dashboard_request(tenant.integration, today)
    await reset_sandbox_calls(sandbox_url)
    explained = await api.post(
        "/metrics/get-data", params={"explain": "true"}, json=body, headers=tenant.headers
    )
    explained.raise_for_status()
    plan = explained.json()["explain"]
    calls_during_explain = (await sandbox_calls(sandbox_url)).http_requests
    if calls_during_explain:
        raise RuntimeError(f"?explain=true made {calls_during_explain} upstream calls")
    chains = [len(f["calls"]) for f in plan["fetches"]]
    by_dataset: Counter[str] = Counter()
    for fetch in plan["fetches"]:
        by_dataset[fetch["dataset"]] += len(fetch["calls"])
    path_calls = critical_path_calls(chains, fetch_concurrency)
    path_seconds = path_calls * latency_ms / 1000
    plan_kinds: Counter[str] = Counter()
    for fetch in plan["fetches"]:
        for call in fetch["calls"]:
            plan_kinds[call_kind(call["path"])] += 1

    started = time.perf_counter()
    response = await api.post("/metrics/get-data", json=body, headers=tenant.headers)
    wall = time.perf_counter() - started
    answer = response.json()
    calls = await sandbox_calls(sandbox_url)
    upstream_kinds = {
        "batch": calls.by_endpoint.get("batch", 0),
        "list page": sum(v for k, v in calls.by_endpoint.items() if k in LIST_ENDPOINTS),
    }
    upstream_kinds["direct"] = (
        calls.http_requests - upstream_kinds["batch"] - upstream_kinds["list page"]
    )
    # The truth of every paged fetch, read from the emulator just after the listing.
    truths = [
        await sandbox_media(sandbox_url, f["start"], f["end"])
        for f in plan["fetches"]
        if is_paged(f)
    ]
    minimal = minimal_plan(plan["fetches"], truths, call_kind)
    estimated = sum(len(f["calls"]) for f in plan["fetches"] if is_paged(f))
    result = ColdResult(
        widgets=len(body["metrics"]),
        status=response.status_code,
        wall_seconds=wall,
        outcomes=widget_outcomes(answer) if response.status_code == 200 else {},
        plan_fetches=len(plan["fetches"]),
        plan_calls=int(plan["upstream_calls"]),
        plan_critical_path_calls=path_calls,
        critical_path_seconds=path_seconds,
        wall_over_critical_path=wall / path_seconds if path_seconds else None,
        upstream_http_requests=calls.http_requests,
        upstream_endpoint_calls=calls.endpoint_calls,
        upstream_by_endpoint=calls.by_endpoint,
        fetch_concurrency=fetch_concurrency,
        latency_ms=latency_ms,
        plan_by_dataset=dict(by_dataset),
        plan_by_kind=dict(plan_kinds),
        upstream_by_kind=upstream_kinds,
        critical_path_calls_with_paging=critical_path_calls(minimal.chains, fetch_concurrency),
        plan_exact_calls=int(plan["upstream_calls"]) - estimated,
        plan_estimated_calls=estimated,
        minimal_calls=minimal.calls,
        minimal_by_kind=minimal.by_kind,
        minimal_paged=[paged_json(p) for p in minimal.paged],
        calls_equal_minimal=calls.http_requests == minimal.calls,
    )
    return result, answer


def paged_json(paged: PagedFetch) -> dict[str, Any]:
    return {**asdict(paged), "calls": paged.calls}


@dataclass
class WarmResult:
    load: LoadResult
    upstream_http_requests: int
    same_answer_as_cold: bool


async def warm(
    api: httpx.AsyncClient,
    tenant: BenchTenant,
    sandbox_url: str,
    today: date,
    count: int,
    cold_answer: dict[str, Any],
) -> WarmResult:
    body = dashboard_request(tenant.integration, today)
    await reset_sandbox_calls(sandbox_url)
    first = await api.post("/metrics/get-data", json=body, headers=tenant.headers)
    load = await sequential(
        api, "POST", "/metrics/get-data", count, json=body, headers=tenant.headers
    )
    calls = await sandbox_calls(sandbox_url)
    return WarmResult(load, calls.http_requests, first.json() == cold_answer)


@dataclass
class ThroughputResult:
    mode: str
    api_processes: int
    concurrency: int
    seconds: float
    seed: LoadResult
    healthz: LoadResult
    # Authenticated reads beside the seed request: each should cost about what it costs.
    merchant_settings: LoadResult | None = None
    customer_integrations: LoadResult | None = None

    @property
    def ratio(self) -> float | None:
        seed, trivial = self.seed.requests_per_second, self.healthz.requests_per_second
        return seed / trivial if trivial else None


async def throughput(
    api: httpx.AsyncClient,
    tenant: BenchTenant,
    mode: str,
    api_processes: int,
    concurrency: int,
    seconds: float,
) -> ThroughputResult:
    body = seed_request(tenant.integration)
    # Warm the engine's store for this request (and every API process's caches).
    for _ in range(api_processes * 4):
        (await api.post("/metrics/get-data", json=body, headers=tenant.headers)).raise_for_status()
    base_url = str(api.base_url)
    seed = await raw_closed_loop(
        base_url,
        "POST",
        "/metrics/get-data",
        concurrency=concurrency,
        duration=seconds,
        json_body=body,
        headers=tenant.headers,
    )
    healthz = await raw_closed_loop(
        base_url, "GET", "/healthz", concurrency=concurrency, duration=seconds
    )
    reads = {}
    for path in ("/merchants/settings", "/customer-integrations"):
        (await api.get(path, headers=tenant.headers)).raise_for_status()
        reads[path] = await raw_closed_loop(
            base_url, "GET", path, concurrency=concurrency, duration=seconds, headers=tenant.headers
        )
    return ThroughputResult(
        mode,
        api_processes,
        concurrency,
        seconds,
        seed,
        healthz,
        merchant_settings=reads["/merchants/settings"],
        customer_integrations=reads["/customer-integrations"],
    )


def as_json(value: Any) -> Any:
    """Dataclasses (with properties worth keeping) as plain JSON."""
    if isinstance(value, ThroughputResult):
        out = asdict(value)
        out["ratio_seed_to_healthz"] = value.ratio
        out["seed"]["requests_per_second"] = value.seed.requests_per_second
        out["healthz"]["requests_per_second"] = value.healthz.requests_per_second
        for name in ("merchant_settings", "customer_integrations"):
            load = getattr(value, name)
            if load is not None:
                out[name]["requests_per_second"] = load.requests_per_second
        return out
    if isinstance(value, WarmResult):
        out = asdict(value)
        out["load"]["requests_per_second"] = value.load.requests_per_second
        return out
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


def finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value
