"""One executor for every kit connector: a FetchRequest becomes a plan of calls, explain
shows that plan, fetch makes exactly those calls (plus their follow-ups: further pages,
retries, an async report's polls), so the plan cannot drift from the calls.

A network's `hooks.py` subclasses `KitConnector`: it names its streams.yaml and client,
adds template variables, turns answers into rows, and plans what no spec can say
(listings of posts, whose insights depend on what the listing returns).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from metrics_connect import clock
from metrics_connect.connectors.base import (
    Connector,
    ConnectorContext,
    DatasetSpec,
    FetchRequest,
    FetchResult,
    ObjectEstimate,
    ObjectRow,
    PlannedCall,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.paging import first_page
from metrics_connect.connectors.kit.spec import Requester, Stream, Streams
from metrics_connect.connectors.kit.windows import bounds, moment, windows, zone


class TemplateError(UpstreamError):
    """A streams.yaml template names a variable nobody provides."""


def render(template: str, variables: Mapping[str, str]) -> str:
    try:
        return template.format_map(variables)
    except KeyError as exc:
        raise TemplateError(f"template {template!r} needs the variable {exc.args[0]}") from None


def render_call(requester: Requester, variables: Mapping[str, str], window: Any) -> Call:
    params = {k: render(v, variables) for k, v in requester.params.items()}
    return Call(
        path=render(requester.path, variables),
        params={k: v for k, v in params.items() if v != ""},
        method=requester.method,
        requester=requester.name,
        window=window,
    )


def add_differences(values: dict[str, Scalar], differences: Mapping[str, Sequence[str]]) -> None:
    """The stream's `differences` from the answered values (a missing one counts 0)."""
    for name, (minuend, subtrahend) in differences.items():
        left, right = values.get(minuend) or 0, values.get(subtrahend) or 0
        if not isinstance(left, int | float) or not isinstance(right, int | float):
            raise UpstreamError(f"{name}: {minuend} and {subtrahend} are not both numbers")
        values[name] = left - right


class KitConnector(Connector):
    streams: ClassVar[Streams]
    datasets: ClassVar[dict[str, DatasetSpec]] = {}  # from `streams`, per subclass
    client_class: ClassVar[type[KitClient]] = KitClient

    def __init__(self, ctx: ConnectorContext, *, now: Callable[[], datetime] | None = None) -> None:
        super().__init__(ctx)
        self.client = self.client_class(ctx, self.streams)
        self.tz = zone(ctx.timezone)
        self.version = self.client.version
        # The sync runs at the upstream's clock (the demo replays the sandbox's); the
        # engine uses ours.
        self.clock: Callable[[], datetime] = now or clock.now

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "streams" in cls.__dict__:
            cls.datasets = cls.streams.dataset_specs()

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    def stream(self, request: FetchRequest) -> Stream:
        stream = self.streams.datasets.get(request.dataset)
        if stream is None:
            raise UpstreamError(f"unknown {self.streams.network} dataset: {request.dataset}")
        return stream

    def refuse_unknown_breakdowns(self, request: FetchRequest) -> None:
        """A breakdown the dataset does not declare is refused before any call."""
        unknown = set(request.breakdowns) - set(self.stream(request).breakdowns)
        if unknown:
            raise UpstreamError(
                f"dataset {request.dataset} cannot break down by {', '.join(sorted(unknown))}"
            )

    # --- hooks: what the network's code adds ---

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        """Template variables of every call of the request."""
        return {
            "version": self.version,
            "account": self.ctx.external_id,
            "breakdowns": ",".join(request.breakdowns),
        }

    def window_variables(
        self, request: FetchRequest, requester: Requester, first: date, last: date
    ) -> dict[str, str]:
        """Template variables of one window's call (beyond {since}/{until}/{start}/{end})."""
        return {}

    def expected_rows(self, request: FetchRequest, call: Call) -> int:
        """Rows a call is expected to answer (an async report above `when_rows_over`)."""
        return 0

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        """Rows of the answers: by default each record's numeric dataset fields, keyed by
        the request's breakdowns, on the record's `day` (daily datasets) or today
        (snapshots); a record without any is no row."""
        stream, today = self.stream(request), self.today()
        rows = []
        for answer in answers:
            for record in answer.records:
                day = today if stream.kind == "snapshot" else None
                if stream.kind == "daily":
                    day = date.fromisoformat(str(record["day"])[:10])
                keys = {b: str(record[b]) for b in request.breakdowns if b in record}
                values: dict[str, Scalar] = {
                    f: record[f]
                    for f in stream.fields
                    if isinstance(record.get(f), int | float) and not isinstance(record[f], bool)
                }
                if values:
                    rows.append(Row(day=day, keys=keys, values=values))
        return FetchResult(rows=rows)

    def plan_objects(self, request: FetchRequest, estimate: ObjectEstimate) -> list[Call]:
        """An objects dataset's calls given what the store suggests (`estimated` where
        the listing decides): by default every page of the listing, one of them."""
        return [replace(self.listing(request)[0], estimated=True)]

    async def fetch_objects(self, request: FetchRequest) -> FetchResult:
        """By default every listed object on the request's days, by the `objects` map."""
        call, requester = self.listing(request)
        answer = await self.client.run(call, requester)
        rows = [self.object_row(request, item, {}) for item in answer.records]
        return FetchResult(objects=[r for r in rows if request.start <= r.day <= request.end])

    def object_row(
        self, request: FetchRequest, item: dict[str, Any], values: dict[str, Scalar]
    ) -> ObjectRow:
        """A listed object by its stream's `objects` map, with `values` added."""
        spec = self.stream(request).objects
        if spec is None:
            raise UpstreamError(f"{self.streams.network}.{request.dataset} has no objects map")
        created = moment(str(item[spec.created]))
        attributes = {k: item[k] for k in spec.attributes if item.get(k) is not None}
        attributes["created_at"] = created.strftime("%Y-%m-%d %H:%M:%S")
        own = {
            k: item[k]
            for k in spec.values
            if isinstance(item.get(k), int | float) and not isinstance(item[k], bool)
        }
        return ObjectRow(
            id=str(item[spec.id]),
            day=created.astimezone(self.tz).date(),
            attributes=attributes,
            values={**own, **values},
        )

    # --- the plan ---

    def listing(self, request: FetchRequest, name: str = "list") -> tuple[Call, Requester]:
        """An objects dataset's listing call (first page) and its requester."""
        stream = self.stream(request)
        requester = self.streams.requester(request.dataset, name)
        call = render_call(requester, self.variables(request, stream), None)
        return replace(call, params=first_page(requester.paginator, call.params)), requester

    def plan(self, request: FetchRequest) -> list[Call]:
        stream = self.stream(request)
        if stream.kind == "objects":
            return self.plan_objects(request, ObjectEstimate(in_span=None))
        shared = self.variables(request, stream)
        today = self.today()
        calls: list[Call] = []
        for requester in stream.requesters:
            made: list[Call] = []
            for first, last in windows(
                request.start, request.end, requester.window, self.tz, today
            ):
                variables = {
                    **shared,
                    **bounds(first, last, requester.window, self.tz),
                    **self.window_variables(request, requester, first, last),
                }
                made.append(render_call(requester, variables, (first, last)))
            calls += self._grouped(requester, made) if requester.batch else made
        if stream.async_report is not None:
            limit = stream.async_report.when_rows_over
            calls = [
                replace(c, method="POST") if self.expected_rows(request, c) > limit else c
                for c in calls
            ]
        return calls

    @staticmethod
    def _grouped(requester: Requester, operations: list[Call]) -> list[Call]:
        size = requester.batch or 1
        return [
            Call(
                path="batch",
                method="POST",
                requester=requester.name,
                operations=tuple(operations[i : i + size]),
            )
            for i in range(0, len(operations), size)
        ]

    # --- the contract ---

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        return [call.planned() for call in self.plan(request)]

    def plan_object_calls(
        self, request: FetchRequest, estimate: ObjectEstimate
    ) -> list[PlannedCall]:
        if self.stream(request).kind != "objects":
            return self.plan_calls(request)
        return [call.planned() for call in self.plan_objects(request, estimate)]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if self.stream(request).kind == "objects":
            result = await self.fetch_objects(request)
        else:
            answers = [await self.run(request, call) for call in self.plan(request)]
            result = self.result(request, answers)
        result.incomplete_days |= self.incomplete(request)
        return result

    def incomplete(self, request: FetchRequest) -> set[date]:
        """The request's days the network has not completed yet (stream.incomplete_days)."""
        stream, today = self.stream(request), self.today()
        if not stream.incomplete_days:
            return set()
        first = max(request.start, today - timedelta(days=stream.incomplete_days - 1))
        last = request.end if stream.incomplete_future else min(request.end, today)
        return {first + timedelta(days=i) for i in range((last - first).days + 1)}

    def quota_spent(self) -> dict[str, float]:
        return self.client.quota_spent()

    async def run(self, request: FetchRequest, call: Call) -> Answer:
        """One planned call and its follow-ups, by the family's client."""
        requester = self.streams.requester(request.dataset, call.requester)
        return await self.client.run(call, requester, self.stream(request).async_report)
