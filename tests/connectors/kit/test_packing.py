"""The kit's call economy (kit/packing.py) on a made-up report API: fetches packed into
shared requests within the declared limits, by bucket, re-planned alike from a group's
own fetches, batched per call; a failed call fails only its own fetches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar

import httpx

from metrics_connect.connectors.base import (
    AccountInfo,
    ConnectorContext,
    FetchRequest,
    FetchResult,
    Row,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Call
from metrics_connect.connectors.kit.packing import (
    Member,
    Pack,
    PackedConnector,
    Shape,
    batches,
    pack,
)
from metrics_connect.connectors.kit.spec import Packing, Streams
from metrics_connect.settings import Settings

LIMITS = Packing(max_ranges=2, max_fields=3, per_call=2, one_dataset_with=("age",))
DAY = date(2026, 5, 1)
LATER = date(2026, 5, 2)
SCOPES = {"visits": "events", "orders": "events", "ads": "ads"}
FIELDS = {"visits": ("views", "clicks"), "orders": ("orders",), "ads": ("cost", "clicks")}


def shape(request: FetchRequest) -> Shape:
    return Shape(
        dimensions=("day", *request.breakdowns),
        filter={"country": request.filters[0].value} if request.filters else None,
        fields=FIELDS[request.dataset],
        scope=SCOPES[request.dataset],
        filter_fields=frozenset(f.field for f in request.filters),
    )


def members(packs: Sequence[Pack]) -> list[list[int]]:
    return [[m.index for m in p.members] for p in packs]


def test_fetches_of_one_bucket_share_a_request_within_the_limits() -> None:
    requests = [
        FetchRequest("visits", DAY, DAY),
        FetchRequest("orders", DAY, DAY),  # same scope and dimensions: shares
        FetchRequest("visits", LATER, LATER),  # a third range: past max_ranges
        FetchRequest("ads", DAY, DAY),  # another scope
        FetchRequest("visits", DAY, LATER),  # a second range
        FetchRequest("visits", DAY, DAY, breakdowns=("country",)),  # other dimensions
    ]
    packs = pack(requests, shape, LIMITS)
    # In a fixed order (bucket, dataset, dates), whatever the order asked.
    assert members(packs) == [[3], [1, 0, 4], [2], [5]]
    shared = packs[1]
    assert shared.fields == ["orders", "views", "clicks"]
    assert shared.ranges == [(DAY, DAY), (DAY, LATER)]
    assert [shared.range_index(m) for m in shared.members] == [0, 0, 1]
    for p in packs:
        assert len(p.fields) <= LIMITS.max_fields and len(p.ranges) <= LIMITS.max_ranges


def test_too_many_fields_open_another_request() -> None:
    wide = Packing(max_ranges=4, max_fields=2)
    requests = [FetchRequest("visits", DAY, DAY), FetchRequest("orders", DAY, DAY)]
    assert members(pack(requests, shape, wide)) == [[1], [0]]


def test_an_isolating_dimension_keeps_a_request_to_one_dataset() -> None:
    requests = [
        FetchRequest("visits", DAY, DAY, breakdowns=("age",)),
        FetchRequest("orders", DAY, DAY, breakdowns=("age",)),
        FetchRequest("visits", LATER, LATER, breakdowns=("age",)),
    ]
    assert sorted(members(pack(requests, shape, LIMITS))) == [[0, 2], [1]]


def test_a_group_packed_alone_gives_its_requests_again() -> None:
    requests = [
        FetchRequest(dataset, start, start, breakdowns=b)
        for dataset in ("visits", "orders", "ads")
        for start in (DAY, LATER, date(2026, 5, 3))
        for b in ((), ("country",), ("age",))
    ]
    for batch in batches(pack(requests, shape, LIMITS), LIMITS.per_call):
        assert 1 <= len(batch) <= LIMITS.per_call
        group = [m.request for p in batch for m in p.members]
        again = pack(group, shape, LIMITS)
        assert [(p.fields, p.ranges) for p in again] == [(p.fields, p.ranges) for p in batch]


class ReportApi(PackedConnector):
    """A stand-in whose call of a batch fails when it carries a fetch of `ads`."""

    slug: ClassVar[str] = "reports"
    streams = Streams.model_validate(
        {
            "network": "reports",
            "api": {"family": "google"},
            "packing": LIMITS.model_dump(),
            "datasets": {
                name: {"kind": "daily", "fields": list(fields), "pack_scope": SCOPES[name]}
                for name, fields in FIELDS.items()
            },
        }
    )

    def asks(self, request: FetchRequest) -> tuple[tuple[str, ...], Any, tuple[str, ...]]:
        own = shape(request)
        return own.dimensions, own.filter, own.fields

    def batch_call(self, batch: list[Pack]) -> Call:
        return Call("/report", method="POST", body=[p.fields for p in batch])

    async def run_batch(self, call: Call, batch: list[Pack]) -> list[tuple[Any, list[Any]]]:
        if any(m.request.dataset == "ads" for p in batch for m in p.members):
            raise UpstreamError("ads refused")
        return [({"fields": p.fields}, []) for p in batch]

    def member_result(
        self, call: Call, pack: Pack, member: Member, body: Any, records: list[Any]
    ) -> FetchResult:
        values = {f: pack.range_index(member) for f in member.shape.fields}
        return FetchResult(rows=[Row(day=member.request.start, keys={}, values=values)])

    async def account_info(self) -> AccountInfo:
        return AccountInfo(name="reports", timezone="UTC", currency=None)


async def test_the_connector_answers_each_fetch_and_fails_only_the_failed_calls() -> None:
    ctx = ConnectorContext(
        integration_uuid="packing",
        external_id="1",
        credentials={},
        timezone="UTC",
        http=httpx.AsyncClient(),
        base_url="http://reports.test",
        settings=Settings(),
    )
    connector = ReportApi(ctx)
    requests = [
        FetchRequest("visits", DAY, DAY),
        FetchRequest("visits", DAY, DAY, breakdowns=("country",)),
        FetchRequest("visits", LATER, LATER, breakdowns=("country",)),
        FetchRequest("ads", DAY, DAY),
    ]
    groups = connector.shared_groups(requests)
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3]
    assert len(connector.plan_shared_calls(requests)) == len(groups) == 2
    results = await connector.fetch_shared(requests)
    failed = {i for g in groups if 3 in g for i in g}
    for i, result in enumerate(results):
        if i in failed:
            assert isinstance(result, UpstreamError) and str(result) == "ads refused"
        else:
            assert isinstance(result, FetchResult)
    second = results[2]
    if isinstance(second, FetchResult):
        assert second.rows[0].values == {"views": 1, "clicks": 1}
