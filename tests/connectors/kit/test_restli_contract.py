"""The Rest.li family's contract (LinkedIn), for every network whose streams.yaml says
restli: error map, retry-after, paging to the last page, windows and explain, and the
headers and Rest.li 2.0 query every call carries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from metrics_connect.connectors.kit.errors import Failure
from metrics_connect.connectors.kit.restli import restli_query
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

FAMILY = "restli"


def restli_error(failure: Failure) -> httpx.Response:
    """LinkedIn's envelope: {"status", "serviceErrorCode", "code", "message"}."""
    body: dict[str, Any] = {"status": failure.status, "message": failure.message}
    if failure.code is not None:
        body["serviceErrorCode"] = failure.code
    if failure.status_text:
        body["code"] = failure.status_text
    return httpx.Response(failure.status, json=body)


def retry_after_headers(source: str, seconds: float) -> dict[str, str]:
    assert source == "retry_after_header"
    return {"retry-after": str(seconds)}


@pytest.mark.parametrize(("network", "index", "rule"), error_rules(FAMILY))
async def test_each_error_map_entry_ends_in_its_exception(
    network: KitNetwork, index: int, rule: ErrorRule
) -> None:
    await check_error_rule(network, index, restli_error)


@pytest.mark.parametrize(
    ("network", "index", "rule"),
    [p for p in error_rules(FAMILY) if p.values[2].retry_after],
)
async def test_retry_after_is_honoured(network: KitNetwork, index: int, rule: ErrorRule) -> None:
    await check_retry_after(network, rule, restli_error, retry_after_headers)


@pytest.mark.parametrize(("network", "dataset"), windowed_datasets(FAMILY))
async def test_windows_split_at_the_maximum_and_explain_counts_the_calls(
    network: KitNetwork, dataset: str
) -> None:
    await check_windows_and_explain(network, dataset)


@pytest.mark.parametrize(("network", "requester"), paged_requesters(FAMILY))
async def test_paging_reaches_the_last_page(network: KitNetwork, requester: Requester) -> None:
    """Five records two a page: the next page asked with the token (or offset) of the
    one before, until the answer names no next page."""
    items = [{"n": i} for i in range(5)]
    paginator = requester.paginator.model_copy(update={"page_size": 2})
    asked: list[dict[str, str]] = []

    def page(request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        asked.append(query)
        size = int(query[paginator.page_size_param])
        if paginator.type == "page_token":
            offset = int(query.get(paginator.param, "0"))
            body: dict[str, Any] = {"elements": items[offset : offset + size], "metadata": {}}
            if offset + size < len(items):
                body["metadata"]["nextPageToken"] = str(offset + size)
        else:
            offset = int(query[paginator.offset_param])
            body = {"elements": items[offset : offset + size], "paging": {"total": len(items)}}
        return httpx.Response(200, json=body)

    connector = scripted(network, page)
    records, _ = await connector.client.paged(
        requester.method, "contract", {}, paginator, requester.selector
    )
    assert records == items and len(asked) == 3


@pytest.mark.parametrize("network", networks_of(FAMILY), ids=str)
async def test_every_call_carries_the_version_and_protocol_headers(network: KitNetwork) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"elements": []})

    connector = scripted(network, answer)
    await connector.client.get("/rest/contract", {"accounts": "List(urn%3Ali%3Ax%3A1)"})
    headers = seen[0].headers
    assert headers["x-restli-protocol-version"] == "2.0.0"
    assert len(headers["linkedin-version"]) == 6 and headers["linkedin-version"].isdigit()
    assert seen[0].url.raw_path.endswith(b"accounts=List(urn%3Ali%3Ax%3A1)")


def test_restli_values_keep_their_syntax() -> None:
    query = restli_query({"dateRange": "(start:(year:2026,month:1,day:2))", "q": "a b"})
    assert query == "dateRange=(start:(year:2026,month:1,day:2))&q=a%20b"
