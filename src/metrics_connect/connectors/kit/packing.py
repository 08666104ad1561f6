"""The call economy of report APIs: a dashboard's fetches packed into shared requests.

A report API that takes several date ranges and a list of fields per request answers
many fetches at once when they ask the same dimensions and filter of datasets of one
scope (`Stream.pack_scope`): one request carries the union of their fields and ranges,
within the limits streams.yaml declares (`packing`), and one call carries `per_call`
requests. The network's hooks write a pack's request and cut each fetch's part out of
the answer (`PackedConnector`); fetches alone keep the executor's plan.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from metrics_connect.connectors.base import FetchRequest, FetchResult, PlannedCall, UpstreamError
from metrics_connect.connectors.kit.calls import Call
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.spec import Packing


@dataclass(frozen=True)
class Shape:
    """What a fetch asks of a shared request: its dimensions, filter (JSON) and fields."""

    dimensions: tuple[str, ...]
    filter: Any
    fields: tuple[str, ...]
    scope: str
    filter_fields: frozenset[str] = frozenset()


@dataclass
class Member:
    index: int  # in the fetches given to `pack`
    request: FetchRequest
    shape: Shape

    @property
    def date_range(self) -> tuple[date, date]:
        return (self.request.start, self.request.end)


@dataclass
class Pack:
    """One request answering several fetches: the union of their fields and ranges."""

    shape: Shape
    fields: list[str] = field(default_factory=list)
    ranges: list[tuple[date, date]] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)

    def fits(self, member: Member, limits: Packing) -> bool:
        fields = set(self.fields) | set(member.shape.fields)
        ranges = set(self.ranges) | {member.date_range}
        return len(fields) <= limits.max_fields and len(ranges) <= limits.max_ranges

    def add(self, member: Member) -> None:
        self.members.append(member)
        self.fields += [f for f in member.shape.fields if f not in self.fields]
        if member.date_range not in self.ranges:
            self.ranges.append(member.date_range)

    def range_index(self, member: Member) -> int:
        return self.ranges.index(member.date_range)


def bucket(member: Member, limits: Packing) -> tuple[str, ...]:
    """Fetches of one bucket may share a request: the same dimensions, filter and scope,
    and one dataset where a `one_dataset_with` dimension is asked or filtered on."""
    shape = member.shape
    alone = bool(set(limits.one_dataset_with) & (set(shape.dimensions) | shape.filter_fields))
    return (
        ",".join(shape.dimensions),
        json.dumps(shape.filter, sort_keys=True) if shape.filter else "",
        shape.scope,
        member.request.dataset if alone else "",
    )


def pack(
    requests: Sequence[FetchRequest], shape_of: Callable[[FetchRequest], Shape], limits: Packing
) -> list[Pack]:
    """The fewest requests (first fit, in a fixed order) answering every fetch. The
    members of some of the requests, packed alone, give those requests again: a call
    can be re-planned from its own fetches."""
    members = [Member(i, r, shape_of(r)) for i, r in enumerate(requests)]
    members.sort(
        key=lambda m: (
            bucket(m, limits),
            m.request.dataset,
            m.request.start,
            m.request.end,
            m.index,
        )
    )
    packs: list[Pack] = []
    open_packs: dict[tuple[str, ...], list[Pack]] = {}
    for member in members:
        candidates = open_packs.setdefault(bucket(member, limits), [])
        target = next((p for p in candidates if p.fits(member, limits)), None)
        if target is None:
            target = Pack(member.shape)
            candidates.append(target)
            packs.append(target)
        target.add(member)
    return packs


def batches(packs: list[Pack], per_call: int) -> list[list[Pack]]:
    return [packs[i : i + per_call] for i in range(0, len(packs), per_call)]


class PackedConnector(KitConnector):
    """The engine's shared calls (Connector.shared_groups) by `pack`: each call carries
    the requests of one batch; a failed call fails only its own fetches."""

    @abstractmethod
    def asks(self, request: FetchRequest) -> tuple[tuple[str, ...], Any, tuple[str, ...]]:
        """What the fetch's own request would ask: its dimensions, filter and fields."""

    def shape(self, request: FetchRequest) -> Shape:
        dimensions, filter_, fields = self.asks(request)
        return Shape(
            dimensions=dimensions,
            filter=filter_,
            fields=fields,
            scope=self.stream(request).pack_scope or request.dataset,
            filter_fields=frozenset(f.field for f in request.filters),
        )

    @abstractmethod
    def batch_call(self, batch: list[Pack]) -> Call:
        """The one call asking every request of the batch."""

    @abstractmethod
    async def run_batch(self, call: Call, batch: list[Pack]) -> list[tuple[Any, list[Any]]]:
        """Each request's answer and records (every page)."""

    @abstractmethod
    def member_result(
        self, call: Call, pack: Pack, member: Member, body: Any, records: list[Any]
    ) -> FetchResult:
        """One fetch's rows, out of its request's answer."""

    def packed(self, requests: Sequence[FetchRequest]) -> list[list[Pack]]:
        limits = self.streams.packing
        if limits is None:
            raise UpstreamError(f"{self.streams.network} declares no packing")
        return batches(pack(requests, self.shape, limits), limits.per_call)

    def shared_groups(self, requests: Sequence[FetchRequest]) -> list[tuple[int, ...]]:
        return [tuple(m.index for p in batch for m in p.members) for batch in self.packed(requests)]

    def plan_shared_calls(self, requests: Sequence[FetchRequest]) -> list[PlannedCall]:
        return [self.batch_call(batch).planned() for batch in self.packed(requests)]

    async def fetch_shared(
        self, requests: Sequence[FetchRequest]
    ) -> list[FetchResult | UpstreamError]:
        results: list[FetchResult | UpstreamError] = [UpstreamError("not answered")] * len(requests)
        for batch in self.packed(requests):
            call = self.batch_call(batch)
            try:
                answers = await self.run_batch(call, batch)
            except UpstreamError as exc:
                for member in (m for p in batch for m in p.members):
                    results[member.index] = exc
                continue
            for p, (body, records) in zip(batch, answers, strict=True):
                for member in p.members:
                    result = self.member_result(call, p, member, body, records)
                    result.incomplete_days |= self.incomplete(member.request)
                    results[member.index] = result
        return results
