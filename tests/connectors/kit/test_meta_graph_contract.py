"""The Meta Graph family's contract, for every network whose streams.yaml says meta_graph."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from metrics_connect.connectors.base import (
    NOTE_APPROXIMATE,
    FetchRequest,
    ObjectEstimate,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Call
from metrics_connect.connectors.kit.errors import Failure
from metrics_connect.connectors.kit.meta_graph.connector import GraphConnector
from metrics_connect.connectors.kit.meta_graph.insights import without_named
from metrics_connect.connectors.kit.spec import ErrorRule, Requester

from .contract import (
    KitNetwork,
    check_error_rule,
    check_retry_after,
    check_windows_and_explain,
    error_rules,
    networks_of,
    on_emulator,
    paged_requesters,
    scripted,
    windowed_datasets,
)

FAMILY = "meta_graph"


def graph_error(failure: Failure) -> httpx.Response:
    """Graph's envelope: {"error": {"message", "type", "code", "error_subcode", ...}}."""
    error: dict[str, Any] = {"message": failure.message, "type": "OAuthException"}
    if failure.code is not None:
        error["code"] = failure.code
    if failure.subcode is not None:
        error["error_subcode"] = failure.subcode
    if failure.transient:
        error["is_transient"] = True
    return httpx.Response(failure.status, json={"error": error})


def retry_after_headers(source: str, seconds: float) -> dict[str, str]:
    if source == "usage_headers":
        usage = {
            "1000": [{"type": "ads_insights", "estimated_time_to_regain_access": seconds / 60}]
        }
        return {"x-business-use-case-usage": json.dumps(usage)}
    assert source == "retry_after_header"
    return {"retry-after": str(seconds)}


@pytest.mark.parametrize(("network", "index", "rule"), error_rules(FAMILY))
async def test_each_error_map_entry_ends_in_its_exception(
    network: KitNetwork, index: int, rule: ErrorRule
) -> None:
    await check_error_rule(network, index, graph_error)


@pytest.mark.parametrize(
    ("network", "index", "rule"),
    [p for p in error_rules(FAMILY) if p.values[2].retry_after],
)
async def test_retry_after_is_honoured(network: KitNetwork, index: int, rule: ErrorRule) -> None:
    await check_retry_after(network, rule, graph_error, retry_after_headers)


@pytest.mark.parametrize(("network", "requester"), paged_requesters(FAMILY))
async def test_cursor_paging_reaches_the_last_page(
    network: KitNetwork, requester: Requester
) -> None:
    """Three pages of two items: `paging.next` and `cursors.after` lead on, the next
    link's own token is never reused, the page without `next` is the last."""
    asked: list[dict[str, str]] = []

    def page(request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        asked.append(query)
        n = len(asked)
        body: dict[str, Any] = {"data": [{"id": f"{n}-a"}, {"id": f"{n}-b"}]}
        if n < 3:
            link = f"http://127.0.0.1:9/v0/x?after=c{n}&access_token=leaked&limit=2"
            body["paging"] = {"cursors": {"after": f"c{n}"}, "next": link}
        return httpx.Response(200, json=body)

    connector = scripted(network, page)
    records, _ = await connector.client.paged(
        "GET", "contract", {"fields": "id"}, requester.paginator, requester.selector
    )
    assert [r["id"] for r in records] == ["1-a", "1-b", "2-a", "2-b", "3-a", "3-b"]
    assert [q.get("after") for q in asked] == [None, "c1", "c2"]
    assert all(q["access_token"] == "contract-token" for q in asked)
    assert all(q["fields"] == "id" for q in asked)


@pytest.mark.parametrize(("network", "dataset"), windowed_datasets(FAMILY))
async def test_windows_split_at_the_maximum_and_explain_counts_the_calls(
    network: KitNetwork, dataset: str
) -> None:
    await check_windows_and_explain(network, dataset)


def without_b(metrics: tuple[str, ...], message: str) -> tuple[str, ...]:
    return tuple(m for m in metrics if m != "b")


def asking_fewer(
    network: KitNetwork, refusing: set[str]
) -> tuple[GraphConnector, FetchRequest, Call, list[str]]:
    """A Graph connector whose upstream refuses (#100) any query asking a metric of
    `refusing`, a plain request and an insights call of "a,b,c", and the metrics asked."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        metric = parse_qs(request.url.query.decode())["metric"][0]
        asked.append(metric)
        if refusing & set(metric.split(",")):
            return graph_error(Failure(status=400, code=100, message=f"(#100) {metric}"))
        return httpx.Response(200, json={"data": [{"name": metric}]})

    connector = scripted(network, answer)
    assert isinstance(connector, GraphConnector)
    dataset, stream = next(
        (n, s) for n, s in network.streams.datasets.items() if s.requesters and not s.async_report
    )
    request = FetchRequest(dataset, date(2026, 1, 1), date(2026, 1, 1))
    call = Call("1000/insights", {"metric": "a,b,c"}, requester=stream.requesters[0].name)
    return connector, request, call, asked


@pytest.mark.parametrize("network", networks_of(FAMILY), ids=str)
async def test_a_query_is_asked_again_without_what_graph_refuses(network: KitNetwork) -> None:
    """`run_asking_fewer`: each plain bad request drops what `fewer` says; an answer that
    drops nothing more ends in the error, after no further request."""
    connector, request, call, asked = asking_fewer(network, refusing={"b", "d"})
    answer_ = await connector.run_asking_fewer(request, call, "metric", without_b)
    assert asked == ["a,b,c", "a,c"] and answer_.records == [{"name": "a,c"}]
    asked.clear()
    with pytest.raises(UpstreamError):
        await connector.run_asking_fewer(
            request, replace(call, params={"metric": "c,d"}), "metric", without_b
        )
    assert asked == ["c,d"]


def insight_datasets() -> list[Any]:
    return [
        pytest.param(network, name, id=f"{network}-{name}")
        for network in networks_of(FAMILY)
        for name, stream in network.streams.datasets.items()
        if stream.objects is not None and stream.objects.insights is not None
    ]


@pytest.mark.parametrize(("network", "dataset"), insight_datasets())
async def test_listed_objects_take_the_planned_pages_and_insight_batches(
    network: KitNetwork, dataset: str
) -> None:
    """One full listing page and three more objects on the fetch's day (then older ones,
    unless every live object is listed): the listing pages and the batches' operation
    counts the plan gives for that estimate are the ones fetch takes."""
    stream = network.streams.datasets[dataset]
    assert stream.objects is not None and stream.objects.insights is not None
    multi_id = stream.objects.insights.multi_id
    size = network.streams.requester(dataset, "list").paginator.page_size or 1
    connector = scripted(network, lambda _: httpx.Response(200, json={}))
    today = connector.today()
    noon = datetime.combine(today, time(12), connector.tz).astimezone(UTC)
    created = [noon] * (size + 3) + ([] if multi_id else [noon - timedelta(days=3)] * 2)
    items = [
        {"id": str(n), stream.objects.created: moment.strftime("%Y-%m-%dT%H:%M:%S+0000")}
        for n, moment in enumerate(created)
    ]
    pages: list[str] = []
    batches: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            operations = json.loads(parse_qs(request.content.decode())["batch"][0])
            batches.append(len(operations))
            return httpx.Response(200, json=[{"code": 200, "body": "{}"} for _ in operations])
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        if query.get("fields") == "access_token":  # a Page token, asked once
            return httpx.Response(200, json={"access_token": "contract-page-token"})
        page = int(query.get("after", "0"))
        pages.append(request.url.path)
        body: dict[str, Any] = {"data": items[page * size : (page + 1) * size]}
        if (page + 1) * size < len(items):
            link = f"http://127.0.0.1:9/v0/x?after={page + 1}"
            body["paging"] = {"cursors": {"after": str(page + 1)}, "next": link}
        return httpx.Response(200, json=body)

    connector = scripted(network, answer)
    request = FetchRequest(dataset, today, today)
    estimate = ObjectEstimate(in_span=size + 3, newer=0, older=not multi_id)
    planned = connector.plan_object_calls(request, estimate)
    result = await connector.fetch(request)
    assert len(result.objects) == size + 3
    assert len(pages) == len([c for c in planned if c.path != "batch"]) == 2
    planned_batches = [c.params["operations"] for c in planned if c.path == "batch"]
    assert len(batches) == len(planned_batches) > 0
    if not multi_id:
        assert [str(n) for n in batches] == planned_batches


@pytest.mark.parametrize("network", networks_of(FAMILY), ids=str)
async def test_account_info_reads_the_account_node(network: KitNetwork) -> None:
    """streams.yaml `account`: one read of the account's node for its fields; the first
    name field present names the account (else the node's id), the time zone and the
    currency come from the node where it has them."""
    spec = network.streams.account
    asked: list[tuple[str, str]] = []
    node_body: dict[str, Any] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        fields = parse_qs(request.url.query.decode())["fields"][0]
        if fields == "access_token":  # a Page token, asked first
            return httpx.Response(200, json={"access_token": "contract-page-token"})
        asked.append((request.url.path.rsplit("/", 1)[-1], fields))
        return httpx.Response(200, json=node_body)

    node = f"{spec.node_prefix}1000"
    info = await scripted(network, answer).account_info()
    assert asked == [(node, ",".join(spec.fields))]
    assert (info.name, info.timezone, info.currency) == (node, "America/Sao_Paulo", None)
    node_body.update({f: f"the {f}" for f in spec.fields})
    info = await scripted(network, answer).account_info()
    assert info.name == f"the {spec.name_fields[0]}"
    assert info.timezone == (
        f"the {spec.timezone_field}" if spec.timezone_field else "America/Sao_Paulo"
    )
    assert info.currency == (f"the {spec.currency_field}" if spec.currency_field else None)


@pytest.mark.parametrize("network", networks_of(FAMILY), ids=str)
async def test_refused_metrics_are_read_from_either_graph_wording(network: KitNetwork) -> None:
    """`without_named`: Graph's generic refusal lists the metrics it serves (the others
    are left out); another wording names the refused ones."""
    asked: list[str] = []
    served = {"reach", "views"}

    def answer(request: httpx.Request) -> httpx.Response:
        metrics = parse_qs(request.url.query.decode())["metric"][0].split(",")
        asked.append(",".join(metrics))
        if "impressions" in metrics:
            message = "(#100) metric[1] must be one of the following values: reach, views"
        elif set(metrics) - served:
            message = f"(#100) The API does not support the {metrics[-1]} metric"
        else:
            return httpx.Response(200, json={"data": [{"name": m} for m in metrics]})
        return graph_error(Failure(status=400, code=100, message=message))

    connector = scripted(network, answer)
    assert isinstance(connector, GraphConnector)
    dataset, stream = next(
        (n, s) for n, s in network.streams.datasets.items() if s.requesters and not s.async_report
    )
    request = FetchRequest(dataset, date(2026, 1, 1), date(2026, 1, 1))
    call = Call("1000/insights", {"metric": "reach,impressions,plays,views"})
    call = replace(call, requester=stream.requesters[0].name)
    answered = await connector.run_asking_fewer(request, call, "metric", without_named)
    assert asked == ["reach,impressions,plays,views", "reach,views"]
    assert [r["name"] for r in answered.records] == ["reach", "views"]
    asked.clear()
    call = replace(call, params={"metric": "reach,plays"})
    answered = await connector.run_asking_fewer(request, call, "metric", without_named)
    assert asked == ["reach,plays", "reach"]


def windowed_periods() -> list[Any]:
    return [
        pytest.param(network, name, id=f"{network}-{name}")
        for network in networks_of(FAMILY)
        for name, stream in network.streams.datasets.items()
        if stream.kind == "period" and any(r.window.max_days for r in stream.requesters)
    ]


@pytest.mark.parametrize(("network", "dataset"), windowed_periods())
async def test_a_period_summed_over_several_calls_is_approximate(
    network: KitNetwork, dataset: str
) -> None:
    """`summed_uniques`: a period the API answers in one call is its own figure; one
    longer than a call's largest window is summed over calls: marked approximate."""
    stream = network.streams.datasets[dataset]
    longest = max(r.window.max_days or 0 for r in stream.requesters)
    async with on_emulator(network) as (connector, _):
        yesterday = connector.today() - timedelta(days=1)
        # (A day short of the longest window: a DST change makes a day 25 hours long.)
        for days, notes in ((longest - 1, set()), (2 * longest, {NOTE_APPROXIMATE})):
            request = FetchRequest(dataset, yesterday - timedelta(days=days - 1), yesterday)
            result = await connector.fetch(request)
            assert result.rows and result.notes == notes


@pytest.mark.parametrize("network", networks_of(FAMILY), ids=str)
async def test_refused_values_kept_are_left_out_of_later_calls(network: KitNetwork) -> None:
    """`run_asking_fewer` with a `refused` set: what a refusal drops is kept there, and
    a later call given the set never asks it again (one request, not two)."""
    connector, request, call, asked = asking_fewer(network, refusing={"b"})
    refused: set[str] = set()
    await connector.run_asking_fewer(request, call, "metric", without_b, refused)
    assert asked == ["a,b,c", "a,c"] and refused == {"b"}
    asked.clear()
    later = replace(call, params={"metric": "b,c,d"})
    assert (await connector.run_asking_fewer(request, later, "metric", without_b, refused)).records
    assert asked == ["c,d"]


@pytest.mark.parametrize(("network", "dataset"), windowed_datasets(FAMILY))
def test_only_now_only_datasets_join_the_snapshot_batch(network: KitNetwork, dataset: str) -> None:
    """`batch_item` (what `fetch_in_one_batch` sends): a dataset whose every call is "now"
    only gives its one call of today; any other is refused."""
    stream = network.streams.datasets[dataset]
    connector = scripted(network, lambda _: httpx.Response(200, json={}))
    assert isinstance(connector, GraphConnector)
    today = connector.today()
    request = FetchRequest(dataset, today, today, breakdowns=stream.breakdowns[:1])
    if all(r.window.now_only for r in stream.requesters):
        item = connector.batch_item(request)
        assert item.requester == stream.requesters[0].name and "{" not in item.path
    else:
        with pytest.raises(UpstreamError, match="is not a now-only snapshot"):
            connector.batch_item(request)
