"""The JSON REST family's contract, for every network whose streams.yaml says json_rest."""

from __future__ import annotations

import math
import time
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
    networks_of,
    paged_requesters,
    scripted,
    windowed_datasets,
)

FAMILY = "json_rest"


def rest_error(network: KitNetwork) -> Any:
    """The network's envelope: the error object at its `error_path` ("" for the body), its
    code in the envelope's first `code_fields`."""
    path = network.streams.errors.envelope.error_path
    # Where the network keeps its code (HubSpot: a text `category`).
    code_field = network.streams.errors.envelope.code_fields[0]

    def answer(failure: Failure) -> httpx.Response:
        error: dict[str, Any] = {"message": failure.message}
        if failure.code is not None:
            error[code_field] = failure.code
        elif failure.status_text:
            error[code_field] = failure.status_text
        body = error if not path else {path: error}
        return httpx.Response(failure.status, json=body)

    return answer


def retry_after_headers(source: str, seconds: float) -> dict[str, str]:
    if source == "reset_epoch_header":  # X: whole epoch seconds, never sooner than asked
        return {"x-rate-limit-reset": str(math.ceil(time.time() + seconds))}
    if source == "reset_milliseconds_header":  # Nuvemshop: milliseconds to an empty bucket
        return {"x-rate-limit-reset": str(int(seconds * 1000))}
    assert source in ("retry_after_header", "ratelimit_reset_header")
    name = "retry-after" if source == "retry_after_header" else "x-ratelimit-reset"
    return {name: str(seconds)}


def put(body: dict[str, Any], path: str, value: Any) -> None:
    """body["a"]["b"] = value for the dotted path "a.b"."""
    *parents, last = path.split(".")
    for step in parents:
        body = body.setdefault(step, {})
    body[last] = value


@pytest.mark.parametrize(("network", "index", "rule"), error_rules(FAMILY))
async def test_each_error_map_entry_ends_in_its_exception(
    network: KitNetwork, index: int, rule: ErrorRule
) -> None:
    await check_error_rule(network, index, rest_error(network))


@pytest.mark.parametrize(
    ("network", "index", "rule"),
    [p for p in error_rules(FAMILY) if p.values[2].retry_after],
)
async def test_retry_after_is_honoured(network: KitNetwork, index: int, rule: ErrorRule) -> None:
    await check_retry_after(network, rule, rest_error(network), retry_after_headers)


@pytest.mark.parametrize(("network", "dataset"), windowed_datasets(FAMILY))
async def test_windows_split_at_the_maximum_and_explain_counts_the_calls(
    network: KitNetwork, dataset: str
) -> None:
    await check_windows_and_explain(network, dataset)


@pytest.mark.parametrize(
    ("network", "requester"),
    [p for p in paged_requesters(FAMILY) if p.values[1].paginator.type == "cursor"],
)
async def test_cursor_paging_reaches_the_last_page(
    network: KitNetwork, requester: Requester
) -> None:
    """Five items two a page: the next page asked with the cursor of the one before."""
    items = [{"n": i} for i in range(5)]
    paginator = requester.paginator.model_copy(update={"page_size": 2})
    asked: list[dict[str, str]] = []

    def page(request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        asked.append(query)
        offset = int(query.get(paginator.param, "0"))
        more = offset + 2 < len(items)
        body: dict[str, Any] = {}
        put(body, requester.selector.records, items[offset : offset + 2])
        put(body, paginator.cursor_path, str(offset + 2) if more else None)
        if paginator.next_path:  # a next link or a has_more flag (TikTok's data.has_more)
            put(body, paginator.next_path, more)
        return httpx.Response(200, json=body)

    connector = scripted(network, page)
    records, _ = await connector.client.paged(
        requester.method, "contract", {}, paginator, requester.selector
    )
    assert records == items
    assert [q.get(paginator.param) for q in asked] == [None, "2", "4"]


def test_the_family_has_networks() -> None:
    assert networks_of(FAMILY)
