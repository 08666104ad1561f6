"""What every Meta Graph connector shares beyond the executor: several requests' calls
in one batch, multi-id reads, listings newest first, API versions, queries asked again
without what Graph refuses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    ObjectEstimate,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.http import select
from metrics_connect.connectors.kit.meta_graph.client import BATCH_LIMIT, MAX_IDS, GraphClient
from metrics_connect.connectors.kit.meta_graph.insights import local_day
from metrics_connect.connectors.kit.spec import Stream


def version_before(version: str, other: str) -> bool:
    """Whether Graph version `version` ("v21.0") is older than `other`."""

    def parts(text: str) -> tuple[int, int]:
        match = re.match(r"v?(\d+)(?:\.(\d+))?", text.strip())
        return (int(match.group(1)), int(match.group(2) or 0)) if match else (0, 0)

    return parts(version) < parts(other)


def multi_id_reads(path: str, ids: list[str], params: dict[str, str]) -> list[Call]:
    """`?ids=` reads of the same edge for many objects, 50 ids each."""
    return [
        Call(path, {"ids": ",".join(ids[i : i + MAX_IDS]), **params})
        for i in range(0, len(ids), MAX_IDS)
    ]


def listing_pages(estimate: ObjectEstimate, page_size: int) -> int:
    """Pages of a listing newest first read until it passes the first day: the page
    holding the first older object ends it; without one, the last page."""
    listed = estimate.newer + (estimate.in_span or 0)
    return listed // page_size + 1 if estimate.older else max(1, -(-listed // page_size))


def batches(operations: int) -> list[str]:
    """Each batch's operation count for this many operations, 50 a batch."""
    full, rest = divmod(operations, BATCH_LIMIT)
    return [str(BATCH_LIMIT)] * full + ([str(rest)] if rest else [])


def insight_reads(stream: Stream) -> list[Call]:
    """Each listed object's insight reads (streams.yaml `objects.insights.reads`), their
    paths under the object's id."""
    insights = stream.objects.insights if stream.objects else None
    return [Call(read.path, read.params) for read in insights.reads] if insights else []


def object_calls(stream: Stream, estimate: ObjectEstimate) -> tuple[int, list[str]]:
    """(list pages, each insight batch's operations) that fetching `estimate`'s objects
    takes (streams.yaml `objects.insights`): a listing newest first is read until it
    passes the fetch's first day, then each object in the span takes its reads, 50 per
    batch; multi-id reads list every live object and read them all in one batch.
    Without an estimate: one page and one batch."""
    assert stream.objects is not None and stream.objects.insights is not None
    insights = stream.objects.insights
    size = next(r.paginator.page_size for r in stream.requesters if r.name == "list") or 1
    if estimate.in_span is None:
        return 1, [insights.unplanned]
    if insights.multi_id:
        listed = estimate.newer + estimate.in_span
        return max(1, -(-listed // size)), ([insights.unplanned] if estimate.in_span else [])
    return listing_pages(estimate, size), batches(estimate.in_span * insights.per_object)


class GraphConnector(KitConnector):
    client_class: ClassVar[type[GraphClient]] = GraphClient
    client: GraphClient

    @property
    def account_node(self) -> str:
        """The account's node id (streams.yaml `account.node_prefix`: Meta Ads' act_<id>)."""
        account, prefix = self.ctx.external_id, self.streams.account.node_prefix
        return account if account.startswith(prefix) else f"{prefix}{account}"

    async def account_info(self) -> AccountInfo:
        """The account's name, time zone and currency as its node gives them
        (streams.yaml `account`)."""
        spec = self.streams.account
        body = await self.client.get(self.account_node, {"fields": ",".join(spec.fields)})
        name = next((body[f] for f in spec.name_fields if body.get(f)), self.account_node)
        timezone = body.get(spec.timezone_field or "") or self.ctx.timezone
        currency = body.get(spec.currency_field or "")
        return AccountInfo(str(name), str(timezone), str(currency) if currency else None)

    async def run_asking_fewer(
        self,
        request: FetchRequest,
        call: Call,
        param: str,
        fewer: Callable[[tuple[str, ...], str], tuple[str, ...]],
        refused: set[str] | None = None,
    ) -> Answer:
        """The executor's run of `call`, asked again while a plain bad request refuses some
        of `param`'s comma-separated values (Insights fields, metrics): `fewer(asked,
        message)` says which remain; none, or all of them, gives up (the error raises).
        With `refused`, the values refused are kept there and left out of the call (of
        this one and of the later ones given the same set)."""
        asked = tuple(v for v in call.params.get(param, "").split(",") if v not in (refused or ()))
        if refused:
            call = replace(call, params={**call.params, param: ",".join(asked)})
        while True:
            try:
                return await KitConnector.run(self, request, call)
            except UpstreamError as exc:
                remain = fewer(asked, exc.message) if type(exc) is UpstreamError else asked
                if refused is not None:
                    refused.update(set(asked) - set(remain))
                if call.operations or not remain or remain == asked:
                    raise
                asked = remain
                call = replace(call, params={**call.params, param: ",".join(asked)})

    def plan_objects(self, request: FetchRequest, estimate: ObjectEstimate) -> list[Call]:
        """List pages and insight batches for `estimate`'s objects (all `estimated`: the
        listing decides)."""
        stream = self.stream(request)
        if stream.objects is None or stream.objects.insights is None:
            return super().plan_objects(request, estimate)
        first, _ = self.listing(request)
        pages, operations = object_calls(stream, estimate)
        later = replace(first, params={**first.params, "after": "the previous page's cursor"})
        calls = [replace(later if page else first, estimated=True) for page in range(pages)]
        return calls + [
            Call("batch", method="POST", summary={"operations": ops}, estimated=True)
            for ops in operations
        ]

    async def listed(self, request: FetchRequest) -> AsyncIterator[dict[str, Any]]:
        """The listing's items page after page, as the caller reads on."""
        call, requester = self.listing(request)
        pages = self.client.pages(
            "GET", call.path, call.params, requester.paginator, requester.selector
        )
        async for page, _ in pages:
            for item in page:
                yield item

    async def listed_in(
        self, request: FetchRequest, day_field: str, *, newest_first: bool = True
    ) -> list[dict[str, Any]]:
        """Items of a listing on local days request.start..end; newest first, reading
        stops at the first one older than the request."""
        found: list[dict[str, Any]] = []
        async for item in self.listed(request):
            if day_field not in item:
                continue
            day = local_day(str(item[day_field]), self.tz)
            if day < request.start and newest_first:
                break
            if request.start <= day <= request.end:
                found.append(item)
        return found

    def batch_item(self, request: FetchRequest) -> Call:
        """A now-only request's one call, for today."""
        if not all(r.window.now_only for r in self.stream(request).requesters):
            raise UpstreamError(f"{request.dataset} is not a now-only snapshot")
        today = self.today()
        return self.plan(replace(request, start=today, end=today))[0]

    async def fetch_in_one_batch(self, requests: list[FetchRequest]) -> list[FetchResult]:
        """Today's variants of now-only datasets in one Graph batch (what a daily sync
        takes), in the order of `requests`. A variant refused as a bad request leaves
        the others standing (the client logs it); other failures raise."""
        today = self.today()
        wanted = [r for r in requests if r.start <= today <= r.end]
        items = [self.batch_item(r) for r in wanted]
        answers = await self.client.batch(items) if items else []
        by_request: dict[int, FetchResult] = {}
        for request, item, body in zip(wanted, items, answers, strict=True):
            if isinstance(body, UpstreamError):
                if type(body) is not UpstreamError:
                    raise body
                continue
            selector = self.streams.requester(request.dataset, item.requester).selector
            answer = Answer(item, select(body, selector), body)
            by_request[id(request)] = self.result(request, [answer])
        return [by_request.get(id(r), FetchResult()) for r in requests]
