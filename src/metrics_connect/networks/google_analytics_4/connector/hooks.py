"""Google Analytics 4 on the Google kit: what streams.yaml cannot say.

Daily datasets ask runReport for `date` plus the breakdowns, period ones for the exact
period without `date` (unique users are GA4's own figure). Filters match ignoring case,
as the engine's own filters do. The property's name comes from the Admin API.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar

import httpx

from metrics_connect.connectors.base import (
    NOTE_OTHER_ROW,
    NOTE_SAMPLED,
    NOTE_THRESHOLDED,
    AccountInfo,
    FetchRequest,
    FetchResult,
    Filter,
    PlannedCall,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.google.client import GoogleClient
from metrics_connect.connectors.kit.spec import Stream, streams_of
from metrics_connect.networks.google_analytics_4.connector.shared import (
    Shape,
    SharedReport,
    batches,
    member_answer,
    pack,
    report_body,
)

STREAMS = streams_of(__file__)
# The engine's filter operators: GA4's string match types, and the negated operators.
_STRING_MATCH: dict[str, str] = STREAMS.extra["string_match"]
_NEGATED: dict[str, str] = STREAMS.extra["negated"]


def _values(value: Any) -> list[str]:
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return [str(value)]


def one_filter(f: Filter) -> dict[str, Any]:
    operator = f.operator.upper()
    if operator in _NEGATED:
        return {"notExpression": one_filter(Filter(f.field, _NEGATED[operator], f.value))}
    if operator == "IN":
        in_list = {"values": _values(f.value), "caseSensitive": False}
        return {"filter": {"fieldName": f.field, "inListFilter": in_list}}
    if operator in _STRING_MATCH:
        values = _values(f.value)
        if len(values) != 1:
            raise UpstreamError(f"filter {f.field} {operator} takes one value")
        match = {"matchType": _STRING_MATCH[operator], "value": values[0], "caseSensitive": False}
        return {"filter": {"fieldName": f.field, "stringFilter": match}}
    raise UpstreamError(f"filter operator {f.operator} is not supported by Google Analytics 4")


def filter_expression(filters: Iterable[Filter]) -> dict[str, Any]:
    expressions = [one_filter(f) for f in filters]
    return expressions[0] if len(expressions) == 1 else {"andGroup": {"expressions": expressions}}


OTHER_ROW = "(other)"


def report_notes(report: dict[str, Any]) -> set[str]:
    """What a runReport answer's metadata says is not exact (the engine's widget notes)."""
    metadata = report.get("metadata") or {}
    notes: set[str] = set()
    if metadata.get("samplingMetadatas"):
        notes.add(NOTE_SAMPLED)
    if metadata.get("subjectToThresholding"):
        notes.add(NOTE_THRESHOLDED)
    if metadata.get("dataLossFromOtherRow"):
        notes.add(NOTE_OTHER_ROW)
    return notes


def report_metrics(stream: Stream) -> tuple[str, ...]:
    """The GA4 metrics one report asks for: the dataset's fields but the derived ones."""
    derived = stream.extra.get("derived") or {}
    return tuple(f for f in stream.fields if f not in derived)


class GoogleAnalytics4Connector(KitConnector):
    slug: ClassVar[str] = "google_analytics_4"
    streams = STREAMS
    client_class = GoogleClient
    client: GoogleClient

    @property
    def property(self) -> str:
        pid = self.ctx.external_id
        return pid if pid.startswith("properties/") else f"properties/{pid}"

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        return super().variables(request, stream) | {"property": self.property}

    def plan(self, request: FetchRequest) -> list[Call]:
        body = self.report_body(request)
        summary = {
            "dateRanges": f"{request.start.isoformat()}..{request.end.isoformat()}",
            "dimensions": ",".join(d["name"] for d in body["dimensions"]),
            "metrics": ",".join(m["name"] for m in body["metrics"]),
        }
        if "dimensionFilter" in body:
            summary["dimensionFilter"] = json.dumps(body["dimensionFilter"], sort_keys=True)
        return [replace(c, body=body, summary=summary) for c in super().plan(request)]

    def report_body(self, request: FetchRequest) -> dict[str, Any]:
        stream = self.stream(request)
        unknown = set(request.breakdowns) - set(stream.breakdowns)
        if unknown:
            raise UpstreamError(
                f"dataset {request.dataset} cannot break down by {', '.join(sorted(unknown))}"
            )
        dims = (["date"] if stream.kind == "daily" else []) + list(request.breakdowns)
        dimension_filter = filter_expression(request.filters) if request.filters else None
        ranges = [(request.start, request.end)]
        return report_body(ranges, dims, report_metrics(stream), dimension_filter)

    # --- shared reports (shared.py): the engine's groups of fetches ---

    def shape(self, request: FetchRequest) -> Shape:
        body = self.report_body(request)
        return Shape(
            dimensions=tuple(d["name"] for d in body["dimensions"]),
            dimension_filter=body.get("dimensionFilter"),
            metrics=tuple(m["name"] for m in body["metrics"]),
            scope=str(self.stream(request).extra.get("report_scope") or request.dataset),
            filter_fields=frozenset(f.field for f in request.filters),
        )

    def shared_groups(self, requests: Sequence[FetchRequest]) -> list[tuple[int, ...]]:
        return [
            tuple(m.index for report in batch for m in report.members)
            for batch in batches(pack(requests, self.shape))
        ]

    def shared_plan(
        self, requests: Sequence[FetchRequest]
    ) -> list[tuple[Call, list[SharedReport]]]:
        plan = []
        for batch in batches(pack(requests, self.shape)):
            bodies = [report.body(self.page_size()) for report in batch]
            summary = {f"requests[{i}]": r.summary() for i, r in enumerate(batch)}
            if len(batch) == 1:
                call = Call(self.report_path(), method="POST", body=bodies[0], summary=summary)
            else:
                path = self.report_path().replace(":runReport", ":batchRunReports")
                call = Call(path, method="POST", body={"requests": bodies}, summary=summary)
            plan.append((call, batch))
        return plan

    def report_path(self) -> str:
        return self.streams.requester("traffic", "main").path.format(property=self.property)

    def page_size(self) -> int:
        paginator = self.streams.requester("traffic", "main").paginator
        return self.client.page_size or paginator.page_size or 100_000

    def plan_shared_calls(self, requests: Sequence[FetchRequest]) -> list[PlannedCall]:
        return [call.planned() for call, _ in self.shared_plan(requests)]

    async def fetch_shared(
        self, requests: Sequence[FetchRequest]
    ) -> list[FetchResult | UpstreamError]:
        results: list[FetchResult | UpstreamError] = [UpstreamError("not answered")] * len(requests)
        for call, batch in self.shared_plan(requests):
            try:
                answers = await self._run_batch(call, batch)
            except UpstreamError as exc:
                for member in (m for report in batch for m in report.members):
                    results[member.index] = exc
                continue
            for report, (body, records) in zip(batch, answers, strict=True):
                for member in report.members:
                    part, rows = member_answer(report, member, body, records)
                    result = self.result(member.request, [Answer(call, rows, part)])
                    result.incomplete_days |= self.incomplete(member.request)
                    results[member.index] = result
        return results

    async def _run_batch(
        self, call: Call, batch: list[SharedReport]
    ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Every report's answer and rows; further pages by runReport's offset."""
        answer = await self.client.request("POST", call.path, {}, call.body)
        reports = answer.get("reports") if len(batch) > 1 else [answer]
        if not isinstance(reports, list) or len(reports) != len(batch):
            raise UpstreamError("batchRunReports answered another number of reports")
        out = []
        for report, body in zip(batch, reports, strict=True):
            records = list(body.get("rows") or [])
            while len(records) < int(body.get("rowCount") or 0):
                page = report.body(self.page_size()) | {"offset": len(records)}
                more = (await self.client.request("POST", self.report_path(), {}, page)).get("rows")
                if not more:
                    break
                records += more
            out.append((body, records))
        return out

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        stream = self.stream(request)
        derived: dict[str, list[str]] = stream.extra.get("derived") or {}
        rows: list[Row] = []
        notes: set[str] = set()
        for answer in answers:
            first = answer.body or {}
            notes |= report_notes(first)
            types = {h["name"]: h.get("type", "") for h in first.get("metricHeaders") or []}
            dims = [h["name"] for h in first.get("dimensionHeaders") or []]
            metrics = [h["name"] for h in first.get("metricHeaders") or []]
            for raw in answer.records:
                cells = [v.get("value", "") for v in raw.get("dimensionValues") or []]
                keys = dict(zip(dims, cells, strict=True))
                day = _parse_day(keys.pop("date")) if stream.kind == "daily" else None
                values: dict[str, Scalar] = {}
                for name, cell in zip(metrics, raw.get("metricValues") or [], strict=True):
                    values[name] = _number(cell.get("value", "0"), types.get(name, ""))
                for name, (minuend, subtrahend) in derived.items():
                    values[name] = _minus(values, minuend, subtrahend)
                if OTHER_ROW in keys.values():
                    notes.add(NOTE_OTHER_ROW)
                rows.append(Row(day=day, keys=keys, values=values))
        return FetchResult(rows=rows, notes=notes)

    async def account_info(self) -> AccountInfo:
        """Admin API properties.get; without access, a report's metadata gives the time
        zone and currency, and the name is the property id."""
        admin = await self._property_resource()
        if admin is not None:
            return AccountInfo(
                name=str(admin.get("displayName") or self.ctx.external_id),
                timezone=str(admin.get("timeZone") or self.ctx.timezone),
                currency=admin.get("currencyCode"),
            )
        today = self.client.local_now().date().isoformat()
        body = {
            "dateRanges": [{"startDate": today, "endDate": today}],
            "metrics": [{"name": "sessions"}],
            "limit": 1,
            "returnPropertyQuota": True,
        }
        report = await self.client.request("POST", self.report_path(), {}, body)
        metadata = report.get("metadata") or {}
        return AccountInfo(
            name=self.ctx.external_id,
            timezone=str(metadata.get("timeZone") or self.ctx.timezone),
            currency=metadata.get("currencyCode"),
        )

    async def _property_resource(self) -> dict[str, Any] | None:
        """Admin API properties.get for this property; None when it cannot be read."""
        base = getattr(self.ctx.settings, "google_api_base_url", None)
        token = self.ctx.credentials.get("access_token")
        if not base or not token:
            return None
        try:
            response = await self.ctx.http.get(
                f"{str(base).rstrip('/')}/v1beta/{self.property}",
                headers={"Authorization": f"Bearer {token}"},
            )
            payload = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return payload if isinstance(payload, dict) else None


def _parse_day(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _number(text: str, type_: str) -> int | float:
    value = float(text)
    return int(value) if type_ == "TYPE_INTEGER" else value


def _minus(values: dict[str, Scalar], a: str, b: str) -> int | float:
    left, right = values.get(a) or 0, values.get(b) or 0
    assert isinstance(left, int | float) and isinstance(right, int | float)
    return left - right
