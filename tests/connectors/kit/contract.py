"""What every kit network must honour, checked the same way for each network of a family.

The networks come from the streams.yaml files found (not a hand list): a new network
of a family is under contract as soon as its folder has one. Each family's test module
says only how its API writes an error and a page.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import import_module
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

import metrics_connect
from metrics_connect import clock
from metrics_connect.connectors.base import (
    ConnectorContext,
    FetchRequest,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransient,
)
from metrics_connect.connectors.kit.errors import Failure, QuotaExhausted, TooMuchData
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.spec import ErrorRule, Requester, Streams, load_streams
from metrics_connect.connectors.kit.windows import unix_bounds
from metrics_connect.networks.registry import days_timezone
from metrics_connect.sandbox.registry import SandboxNetwork, build_sandbox
from metrics_connect.settings import Settings

PACKAGE = Path(metrics_connect.__file__).parent
# Today's homes of a network's streams.yaml, and the folder-per-network one.
STREAMS_GLOBS = ("connectors/*/streams.yaml", "networks/*/connector/streams.yaml")
NOW = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)
# The retry budget of the error-map checks, waited out (real time) by each retryable rule:
# long enough that a retry comes before it ends, a failure wrongly retried included.
RETRY_BUDGET = 0.15
OUTCOMES: dict[str, type[UpstreamError]] = {
    "expired": IntegrationExpired,
    "revoked": IntegrationRevoked,
    "rate_limited": UpstreamRateLimited,
    "transient": UpstreamTransient,
    "bad_request": UpstreamError,
    "too_much_data": TooMuchData,
}


@dataclass(frozen=True)
class KitNetwork:
    slug: str
    streams: Streams
    connector_class: type[KitConnector]

    def __str__(self) -> str:
        return self.slug


@functools.cache
def discovered() -> tuple[KitNetwork, ...]:
    """Read once per process: every family's test module parametrizes from it."""
    found = []
    for path in sorted(p for pattern in STREAMS_GLOBS for p in PACKAGE.glob(pattern)):
        streams = load_streams(path)
        parts = path.parent.relative_to(PACKAGE).parts
        module = import_module(".".join(("metrics_connect", *parts, "hooks")))
        classes = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, KitConnector)
            and "streams" in value.__dict__
            and value.streams.network == streams.network
        ]
        assert len(classes) == 1, f"{path}: hooks.py must define its one KitConnector"
        found.append(KitNetwork(streams.network, streams, classes[0]))
    return tuple(found)


def networks_of(family: str) -> list[KitNetwork]:
    networks = [n for n in discovered() if n.streams.api.family == family]
    assert networks, f"no network of the {family} family found"
    return networks


def error_rules(family: str) -> list[Any]:
    return [
        pytest.param(network, index, rule, id=f"{network}-{index}-{rule.outcome}")
        for network in networks_of(family)
        for index, rule in enumerate(network.streams.errors.map)
    ]


def windowed_datasets(family: str) -> list[Any]:
    return [
        pytest.param(network, name, id=f"{network}-{name}")
        for network in networks_of(family)
        for name, stream in network.streams.datasets.items()
        if stream.kind != "objects"
    ]


def paged_requesters(family: str) -> list[Any]:
    return [
        pytest.param(network, requester, id=f"{network}-{name}-{requester.name}")
        for network in networks_of(family)
        for name, stream in network.streams.datasets.items()
        for requester in stream.requesters
        if requester.paginator.type != "none"
    ]


# --- a failure that only the given rule describes ---


def failure_for(rule: ErrorRule) -> Failure:
    """The failure each condition of the rule names (its first value of each)."""
    statuses, codes = sorted(rule.statuses()), sorted(rule.codes())
    return Failure(
        status=statuses[0] if statuses else 400,
        code=None if rule.no_code else (codes[0] if codes else None),
        subcode=rule.subcode[0] if rule.subcode else None,
        status_text=rule.status[0] if rule.status else None,
        transient=bool(rule.transient_flag),
        message=f"contract: {rule.message_contains[0] if rule.message_contains else 'failure'}",
    )


# --- the network behind a connector: its emulator, or a scripted transport ---


def context(
    network: KitNetwork, http: httpx.AsyncClient, budget: float = 3.0, **ids: Any
) -> ConnectorContext:
    return ConnectorContext(
        integration_uuid="contract",
        external_id=ids.get("external_id", "1000"),
        credentials=ids.get("credentials", {"access_token": "contract-token"}),
        timezone=ids.get("timezone", "America/Sao_Paulo"),
        http=http,
        # Loopback: OAuth 1.0a signers (authlib) refuse plain http anywhere else.
        base_url="http://127.0.0.1:9",
        settings=Settings(upstream_retry_budget_seconds=budget),
    )


# The emulators that generate years of records when built (a few tenths of a second each,
# for each of their datasets' checks), whose apps keep no state a check could see but
# read caches and throttles that are off unless switched on: built once per process.
REUSED = frozenset(
    {
        "active_campaign",
        "egoi",
        "hotmart",
        "hubspot_crm",
        "nuvem_shop",
        "phonetrack",
        "pipedrive",
        "rd_crm",
        "woo_commerce",
    }
)


@functools.cache
def _built_once(slug: str) -> SandboxNetwork:
    return build_sandbox(slug)


def emulator(slug: str) -> SandboxNetwork:
    """The network's emulator at NOW: a new one, or for REUSED networks the one built
    earlier with fresh controls (the switches as built, the call counter at zero); the
    checks only read the emulator's data."""
    if slug not in REUSED:
        sandbox = build_sandbox(slug)
    else:
        sandbox = _built_once(slug)
        controls = sandbox.controls
        controls.switches = type(controls.switches)()
        controls.calls.reset()
    sandbox.controls.clock.set(NOW)
    return sandbox


@asynccontextmanager
async def on_emulator(network: KitNetwork) -> AsyncIterator[tuple[KitConnector, SandboxNetwork]]:
    sandbox = emulator(network.slug)
    clock.set_clock(lambda: NOW)
    demo = sandbox.demo_account
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as http:
            ctx = context(
                network,
                http,
                external_id=demo.external_id,
                credentials=dict(demo.credentials),
                # The network's days, as production's context gives them.
                timezone=days_timezone(network.slug, demo.timezone),
            )
            yield network.connector_class(ctx), sandbox
    finally:
        clock.set_clock(None)


def scripted(
    network: KitNetwork, answer: Callable[[httpx.Request], httpx.Response], budget: float = 3.0
) -> KitConnector:
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    # A network connected by a form (a store's key pair) holds no access token: its demo
    # account's credentials; a token (never refreshed here) for the others.
    demo = demo_credentials(network.slug)
    credentials = {"access_token": "contract-token"} if "access_token" in demo else demo
    return network.connector_class(context(network, http, budget, credentials=credentials))


@functools.cache
def demo_credentials(slug: str) -> dict[str, Any]:
    return dict(emulator(slug).demo_account.credentials)


# --- the checks ---


async def check_error_rule(
    network: KitNetwork, index: int, envelope: Callable[[Failure], httpx.Response]
) -> None:
    """The rule is reachable (no earlier rule takes its failure), its answer ends in its
    exception, retried or not as that exception says."""
    connector = scripted(network, lambda _: httpx.Response(200, json={}))
    assert connector.streams == network.streams, "the connector reads the streams.yaml found"
    rule = connector.streams.errors.map[index]
    failure = failure_for(rule)
    assert connector.client.errors.rule_for(failure) is rule, "an earlier rule shadows it"
    calls = 0

    def counted(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return envelope(failure)

    # Every call fails: a retryable failure is retried until the budget is spent, and
    # the test waits that long for each such rule (the backoff is cut to what is left).
    connector = scripted(network, counted, budget=RETRY_BUDGET)
    with pytest.raises(UpstreamError) as raised:
        await connector.client.get("contract", {})
    expected = OUTCOMES[rule.outcome]
    if rule.outcome == "bad_request":
        assert type(raised.value) is UpstreamError
    else:
        assert isinstance(raised.value, expected), raised.value
    if rule.outcome == "rate_limited" and not rule.retryable:
        assert isinstance(raised.value, QuotaExhausted) and calls == 1
    elif rule.outcome in ("rate_limited", "transient"):
        assert calls >= 1  # retried within the budget unless a retry-after overruns it
    else:
        assert calls == 1, "only rate limits and transient failures are retried"


async def check_retry_after(
    network: KitNetwork,
    rule: ErrorRule,
    envelope: Callable[[Failure], httpx.Response],
    headers_for: Callable[[str, float], dict[str, str]],
) -> None:
    """A retry-after beyond the budget stops at once; a short one is waited out."""
    failure = failure_for(rule)
    for source in rule.retry_after:
        long_headers = headers_for(source, 600.0)
        calls = 0

        def refused(_: httpx.Request, headers: dict[str, str] = long_headers) -> httpx.Response:
            nonlocal calls
            calls += 1
            response = envelope(failure)
            response.headers.update(headers)
            return response

        with pytest.raises(UpstreamRateLimited) as raised:
            await scripted(network, refused, budget=2.0).client.get("contract", {})
        assert calls == 1 and raised.value.retry_after is not None
        if source == "quota_renewal":
            continue  # renews at the next hour or day: never waited for
        assert raised.value.retry_after == pytest.approx(600.0, rel=0.01)
        moments = await _refused_once(network, envelope(failure), headers_for(source, 0.3))
        assert moments[1] - moments[0] >= 0.29


async def _refused_once(
    network: KitNetwork, refusal: httpx.Response, headers: dict[str, str]
) -> list[float]:
    """When the two calls came: refused once with these headers, then answered."""
    moments: list[float] = []

    def answer(_: httpx.Request) -> httpx.Response:
        moments.append(time.monotonic())
        if len(moments) == 1:
            return httpx.Response(refusal.status_code, json=refusal.json(), headers=headers)
        return httpx.Response(200, json={"id": "contract"})

    assert await scripted(network, answer, budget=3.0).client.get("contract", {})
    return moments


def windows_of(calls: list[Any]) -> list[tuple[date, date]]:
    return [c.window for c in calls if c.window is not None]


async def check_windows_and_explain(network: KitNetwork, dataset: str) -> None:
    """Windows never exceed the requester's documented maximum and tile the request;
    fetch on the emulator makes the calls explain lists: its counter counts each HTTP
    call and each operation inside a batch."""
    stream = network.streams.datasets[dataset]
    async with on_emulator(network) as (connector, sandbox):
        today = connector.today()
        longest = max((r.window.max_days or 1 for r in stream.requesters), default=1)
        start, end = today - timedelta(days=2 * longest + 1), today - timedelta(days=1)
        request = FetchRequest(dataset, start, end)
        try:
            await connector.fetch(request)
        except UpstreamError as refused:
            # A dataset that needs a breakdown (follower demographics) gets its first one.
            if type(refused) is not UpstreamError or not stream.breakdowns:
                raise
            request = FetchRequest(dataset, start, end, breakdowns=stream.breakdowns[:1])
        plan = connector.plan(request)
        for requester in stream.requesters:
            _check_split(connector, requester, [c for c in plan if c.requester == requester.name])
        explained = connector.plan_calls(request)  # what ?explain=true shows
        operations = sum(int(c.params.get("operations", 0)) for c in explained if c.path == "batch")
        sandbox.controls.calls.reset()
        await connector.fetch(request)
        counter = sandbox.controls.calls
        assert counter.total == len(explained) + operations, (counter.by_endpoint, explained)


def _check_split(connector: KitConnector, requester: Requester, calls: list[Any]) -> None:
    window = requester.window
    spans = windows_of([op for c in calls for op in (c.operations or (c,))])
    for (_, last), following in pairwise(spans):
        assert following[0] == last + timedelta(days=1), "windows must tile the request"
    for first, last in spans:
        if window.max_days:
            assert (last - first).days + 1 <= window.max_days
        if window.max_seconds:
            since, until = unix_bounds(first, last, connector.tz)
            assert until - since <= window.max_seconds
    if window.max_days and spans:
        days = (spans[-1][1] - spans[0][0]).days + 1
        assert len(spans) >= math.ceil(days / window.max_days)
        assert any((last - first).days + 1 == window.max_days for first, last in spans) or (
            window.max_seconds is not None or days < window.max_days
        ), "a full window reaches the documented maximum"
    if requester.batch:
        assert all(0 < len(c.operations) <= requester.batch for c in calls)
