"""The json_rest family's contract, for every network whose streams.yaml says json_rest.

Plain JSON REST APIs each write errors their own way: ENVELOPES says how a network's
API writes one (the sandbox kit's {"error": {"code", "message"}} by default)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from metrics_connect.connectors.kit.errors import Failure
from metrics_connect.connectors.kit.spec import ErrorRule, Requester

from .contract import (
    KitNetwork,
    check_error_rule,
    check_retry_after,
    check_windows_and_explain,
    error_rules,
    paged_requesters,
    scripted,
    windowed_datasets,
)

FAMILY = "json_rest"


def rest_error(failure: Failure) -> httpx.Response:
    """The sandbox kit's envelope: {"error": {"code", "message"}}."""
    error = {"code": failure.status_text or failure.code, "message": failure.message}
    return httpx.Response(failure.status, json={"error": error})


def x_error(failure: Failure) -> httpx.Response:
    """X's envelope: {"errors": [{"code": "UNAUTHORIZED_ACCESS", "message"}]}."""
    error = {"code": failure.status_text or "UNKNOWN", "message": failure.message}
    return httpx.Response(failure.status, json={"errors": [error], "request": {"params": {}}})


ENVELOPES: dict[str, Callable[[Failure], httpx.Response]] = {"twitter_ads": x_error}


def envelope_of(network: KitNetwork) -> Callable[[Failure], httpx.Response]:
    return ENVELOPES.get(network.slug, rest_error)


def retry_after_headers(source: str, seconds: float) -> dict[str, str]:
    if source == "reset_header":  # epoch seconds, whole: never sooner than asked
        return {"x-rate-limit-reset": str(math.ceil(time.time() + seconds))}
    assert source == "retry_after_header"
    return {"retry-after": str(seconds)}


@pytest.mark.parametrize(("network", "index", "rule"), error_rules(FAMILY))
async def test_each_error_map_entry_ends_in_its_exception(
    network: KitNetwork, index: int, rule: ErrorRule
) -> None:
    await check_error_rule(network, index, envelope_of(network))


@pytest.mark.parametrize(
    ("network", "index", "rule"),
    [p for p in error_rules(FAMILY) if p.values[2].retry_after],
)
async def test_retry_after_is_honoured(network: KitNetwork, index: int, rule: ErrorRule) -> None:
    await check_retry_after(network, rule, envelope_of(network), retry_after_headers)


@pytest.mark.parametrize(
    ("network", "requester"),
    [p for p in paged_requesters(FAMILY) if p.values[1].paginator.type == "cursor"],
)
async def test_cursor_paging_reaches_the_last_page(
    network: KitNetwork, requester: Requester
) -> None:
    """Three pages of two records: each page's cursor asks the next, and the page
    without one is the last."""
    paginator = requester.paginator
    records_path = requester.selector.records
    asked: list[dict[str, str]] = []

    def page(request: httpx.Request) -> httpx.Response:
        asked.append(dict(request.url.params))
        n = len(asked)
        body: dict[str, Any] = {}
        _put(body, records_path, [{"id": f"{n}-a"}, {"id": f"{n}-b"}])
        _put(body, paginator.cursor_path, f"c{n}" if n < 3 else None)
        if paginator.next_path:
            _put(body, paginator.next_path, "next" if n < 3 else None)
        return httpx.Response(200, json=body)

    connector = scripted(network, page)
    records, _ = await connector.client.paged("GET", "contract", {}, paginator, requester.selector)
    assert [r["id"] for r in records] == ["1-a", "1-b", "2-a", "2-b", "3-a", "3-b"]
    assert [q.get(paginator.param) for q in asked] == [None, "c1", "c2"]
    if paginator.page_size is not None:
        assert all(q[paginator.page_size_param] == str(paginator.page_size) for q in asked)


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    steps = path.split(".")
    for step in steps[:-1]:
        body = body.setdefault(step, {})
    body[steps[-1]] = value


@pytest.mark.parametrize(("network", "dataset"), windowed_datasets(FAMILY))
async def test_windows_split_at_the_maximum_and_explain_counts_the_calls(
    network: KitNetwork, dataset: str
) -> None:
    await check_windows_and_explain(network, dataset)
