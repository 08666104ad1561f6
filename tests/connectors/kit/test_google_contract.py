"""The Google family's contract, for every network whose streams.yaml says google."""

from __future__ import annotations

import json
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

FAMILY = "google"


def google_error(failure: Failure) -> httpx.Response:
    """Google's envelope: {"error": {"code", "message", "status"}}."""
    error: dict[str, Any] = {"code": failure.status, "message": failure.message}
    if failure.status_text:
        error["status"] = failure.status_text
    return httpx.Response(failure.status, json={"error": error})


def retry_after_headers(source: str, seconds: float) -> dict[str, str]:
    assert source in ("quota_renewal", "retry_after_header")
    return {"retry-after": str(seconds)} if source == "retry_after_header" else {}


@pytest.mark.parametrize(("network", "index", "rule"), error_rules(FAMILY))
async def test_each_error_map_entry_ends_in_its_exception(
    network: KitNetwork, index: int, rule: ErrorRule
) -> None:
    await check_error_rule(network, index, google_error)


@pytest.mark.parametrize(
    ("network", "index", "rule"),
    [p for p in error_rules(FAMILY) if p.values[2].retry_after],
)
async def test_retry_after_is_honoured(network: KitNetwork, index: int, rule: ErrorRule) -> None:
    await check_retry_after(network, rule, google_error, retry_after_headers)


def paged_by(kind: str) -> list[Any]:
    return [p for p in paged_requesters(FAMILY) if p.values[1].paginator.type == kind]


@pytest.mark.parametrize(("network", "requester"), paged_by("offset_total"))
async def test_offset_paging_reaches_the_last_page(
    network: KitNetwork, requester: Requester
) -> None:
    """Five rows two a page: offsets 0, 2, 4 in the JSON body, up to rowCount (GA4) or to
    the first short page (Search Console, which tells no total)."""
    rows = [{"dimensionValues": [{"value": str(i)}]} for i in range(5)]
    asked: list[dict[str, Any]] = []
    offset_param = requester.paginator.offset_param
    size_param = requester.paginator.page_size_param

    def page(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        asked.append(body)
        offset, limit = body[offset_param], body[size_param]
        assert request.headers["authorization"] == "Bearer contract-token"
        return httpx.Response(200, json={"rows": rows[offset : offset + limit], "rowCount": 5})

    connector = scripted(network, page)
    paginator = requester.paginator.model_copy(update={"page_size": 2})
    records, first = await connector.client.paged(
        requester.method, "contract", {}, paginator, requester.selector, {"metrics": []}
    )
    assert records == rows and first["rows"] == rows[:2]
    assert [(b[offset_param], b[size_param]) for b in asked] == [(0, 2), (2, 2), (4, 2)]


@pytest.mark.parametrize(("network", "dataset"), windowed_datasets(FAMILY))
async def test_windows_split_at_the_maximum_and_explain_counts_the_calls(
    network: KitNetwork, dataset: str
) -> None:
    await check_windows_and_explain(network, dataset)


@pytest.mark.parametrize(("network", "requester"), paged_by("page_token"))
async def test_page_token_paging_reaches_the_last_page(
    network: KitNetwork, requester: Requester
) -> None:
    """Five records two a page: the next page asked with the token of the one before."""
    items = [{"n": i} for i in range(5)]
    paginator = requester.paginator.model_copy(update={"page_size": 2})
    asked: list[dict[str, str]] = []

    def page(request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        asked.append(query)
        offset = int(query.get(paginator.param, "0"))
        size = int(query[paginator.page_size_param])
        body: dict[str, Any] = {}
        path = requester.selector.records
        assert path and "." not in path, "a page-token answer keeps its records at the top"
        body[path] = items[offset : offset + size]
        if offset + size < len(items):
            body[paginator.cursor_path] = str(offset + size)
        return httpx.Response(200, json=body)

    connector = scripted(network, page)
    records, _ = await connector.client.paged(
        requester.method, "contract", {}, paginator, requester.selector
    )
    assert records == items
    assert [q.get(paginator.param) for q in asked] == [None, "2", "4"]
