"""Google Analytics 4 on the Google kit: what streams.yaml cannot say.

Daily datasets ask runReport for `date` plus the breakdowns, period ones for the exact
period without `date` (unique users are GA4's own figure). Filters match ignoring case,
as the engine's own filters do. The property's name comes from the Admin API.

A dashboard's fetches share reports (kit/packing.py, limits in streams.yaml), five a
`batchRunReports`. A fetch of another date range adds a range to its report: its rows
come back under the `dateRange` dimension (`date_range_<i>`), and each fetch gets its
part of the answer as its own report would have answered it (`member_answer`).
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
    AccountInfo,
    FetchRequest,
    FetchResult,
    Filter,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import add_differences
from metrics_connect.connectors.kit.google.client import GoogleClient
from metrics_connect.connectors.kit.packing import Member, Pack, PackedConnector
from metrics_connect.connectors.kit.spec import Stream, streams_of

STREAMS = streams_of(__file__)
# The engine's filter operators: GA4's string match types, and the negated operators.
_STRING_MATCH: dict[str, str] = STREAMS.extra["string_match"]
_NEGATED: dict[str, str] = STREAMS.extra["negated"]
# The engine's widget notes a report's metadata flags say (what is not exact).
_NOTES: dict[str, str] = STREAMS.extra["notes"]
# The smallest report of today, whose metadata gives the time zone and currency.
_ACCOUNT_REPORT: dict[str, Any] = STREAMS.extra["account_report"]
OTHER_ROW = "(other)"


def one_filter(f: Filter) -> dict[str, Any]:
    operator = f.operator.upper()
    if operator in _NEGATED:
        return {"notExpression": one_filter(Filter(f.field, _NEGATED[operator], f.value))}
    many = isinstance(f.value, list | tuple | set | frozenset)
    values = [str(v) for v in f.value] if many else [str(f.value)]
    if operator == "IN":
        in_list = {"values": values, "caseSensitive": False}
        return {"filter": {"fieldName": f.field, "inListFilter": in_list}}
    if operator in _STRING_MATCH:
        if len(values) != 1:
            raise UpstreamError(f"filter {f.field} {operator} takes one value")
        match = {"matchType": _STRING_MATCH[operator], "value": values[0], "caseSensitive": False}
        return {"filter": {"fieldName": f.field, "stringFilter": match}}
    raise UpstreamError(f"filter operator {f.operator} is not supported by Google Analytics 4")


def filter_expression(filters: Iterable[Filter]) -> dict[str, Any]:
    expressions = [one_filter(f) for f in filters]
    return expressions[0] if len(expressions) == 1 else {"andGroup": {"expressions": expressions}}


def report_body(
    ranges: Sequence[tuple[date, date]],
    dimensions: Sequence[str],
    metrics: Sequence[str],
    dimension_filter: dict[str, Any] | None,
    limit: int | None = None,
) -> dict[str, Any]:
    """A runReport body; without a limit, the paginator adds its own."""
    body: dict[str, Any] = {
        "dateRanges": [{"startDate": s.isoformat(), "endDate": e.isoformat()} for s, e in ranges],
        "dimensions": [{"name": d} for d in dimensions],
        "metrics": [{"name": m} for m in metrics],
        # A stable order keeps limit/offset pages consistent.
        "orderBys": [{"dimension": {"dimensionName": d}} for d in dimensions],
        "keepEmptyRows": False,
        "returnPropertyQuota": True,
    }
    if limit is not None:
        body["limit"] = limit
    if dimension_filter is not None:
        body["dimensionFilter"] = dimension_filter
    return body


def summary(body: dict[str, Any]) -> dict[str, str]:
    """A report body as ?explain=true shows it."""
    out = {
        "dateRanges": ",".join(f"{r['startDate']}..{r['endDate']}" for r in body["dateRanges"]),
        "dimensions": ",".join(d["name"] for d in body["dimensions"]),
        "metrics": ",".join(m["name"] for m in body["metrics"]),
    }
    if "dimensionFilter" in body:
        out["dimensionFilter"] = json.dumps(body["dimensionFilter"], sort_keys=True)
    return out


class GoogleAnalytics4Connector(PackedConnector):
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
        return [replace(c, body=body, summary=summary(body)) for c in super().plan(request)]

    def report_body(self, request: FetchRequest) -> dict[str, Any]:
        stream = self.stream(request)
        self.refuse_unknown_breakdowns(request)
        dims = (["date"] if stream.kind == "daily" else []) + list(request.breakdowns)
        dimension_filter = filter_expression(request.filters) if request.filters else None
        ranges = [(request.start, request.end)]
        return report_body(ranges, dims, stream.asked_fields, dimension_filter)

    def report_path(self) -> str:
        return self.streams.requester("traffic", "main").path.format(property=self.property)

    def page_size(self) -> int:
        paginator = self.streams.requester("traffic", "main").paginator
        return self.client.page_size or paginator.page_size or 100_000

    # --- shared reports (kit/packing.py): the engine's groups of fetches ---

    def asks(self, request: FetchRequest) -> tuple[tuple[str, ...], Any, tuple[str, ...]]:
        body = self.report_body(request)
        dimensions = tuple(d["name"] for d in body["dimensions"])
        return dimensions, body.get("dimensionFilter"), tuple(m["name"] for m in body["metrics"])

    def pack_body(self, pack: Pack) -> dict[str, Any]:
        shape = pack.shape
        return report_body(
            pack.ranges, shape.dimensions, pack.fields, shape.filter, self.page_size()
        )

    def batch_call(self, batch: list[Pack]) -> Call:
        bodies = [self.pack_body(p) for p in batch]
        said = {
            f"requests[{i}]": "; ".join(f"{k}={v}" for k, v in summary(body).items())
            for i, body in enumerate(bodies)
        }
        if len(batch) == 1:
            return Call(self.report_path(), method="POST", body=bodies[0], summary=said)
        path = self.report_path().replace(":runReport", ":batchRunReports")
        return Call(path, method="POST", body={"requests": bodies}, summary=said)

    async def run_batch(
        self, call: Call, batch: list[Pack]
    ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Every report's answer and rows; further pages by runReport's offset."""
        answer = await self.client.request("POST", call.path, {}, call.body)
        reports = answer.get("reports") if len(batch) > 1 else [answer]
        if not isinstance(reports, list) or len(reports) != len(batch):
            raise UpstreamError("batchRunReports answered another number of reports")
        out = []
        for pack, body in zip(batch, reports, strict=True):
            records = list(body.get("rows") or [])
            while len(records) < int(body.get("rowCount") or 0):
                page = self.pack_body(pack) | {"offset": len(records)}
                more = (await self.client.request("POST", self.report_path(), {}, page)).get("rows")
                if not more:
                    break
                records += more
            out.append((body, records))
        return out

    def member_result(
        self, call: Call, pack: Pack, member: Member, body: Any, records: list[Any]
    ) -> FetchResult:
        part, rows = member_answer(pack, member, body, records)
        return self.result(member.request, [Answer(call, rows, part)])

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        stream = self.stream(request)
        rows: list[Row] = []
        notes: set[str] = set()
        for answer in answers:
            first = answer.body or {}
            metadata = first.get("metadata") or {}
            notes |= {note for flag, note in _NOTES.items() if metadata.get(flag)}
            dims = [h["name"] for h in first.get("dimensionHeaders") or []]
            metric_headers = first.get("metricHeaders") or []
            for raw in answer.records:
                cells = [v.get("value", "") for v in raw.get("dimensionValues") or []]
                keys = dict(zip(dims, cells, strict=True))
                # `date` is YYYYMMDD, which fromisoformat reads since Python 3.11.
                day = date.fromisoformat(keys.pop("date")) if stream.kind == "daily" else None
                values: dict[str, Scalar] = {}
                for header, cell in zip(metric_headers, raw.get("metricValues") or [], strict=True):
                    values[header["name"]] = _number(cell.get("value", "0"), header.get("type"))
                add_differences(values, stream.differences)
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
        body = {"dateRanges": [{"startDate": today, "endDate": today}], **_ACCOUNT_REPORT}
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


def member_answer(
    pack: Pack, member: Member, body: dict[str, Any], records: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One fetch's part of a shared report's answer, as its own report would have
    answered: its date range's rows without the `dateRange` dimension, its metrics
    only, rows with none of them set left out (keepEmptyRows false), and the metadata
    of its range (sampling is said per range)."""
    dims = [h["name"] for h in body.get("dimensionHeaders") or []]
    metric_headers = body.get("metricHeaders") or []
    wanted = [i for i, h in enumerate(metric_headers) if h.get("name") in member.shape.fields]
    range_at = dims.index("dateRange") if "dateRange" in dims else None
    range_name = f"date_range_{pack.range_index(member)}"
    kept_dims = [i for i, d in enumerate(dims) if d != "dateRange"]
    rows: list[dict[str, Any]] = []
    other_row = False
    for record in records:
        cells = record.get("dimensionValues") or []
        if range_at is not None and cells[range_at].get("value") != range_name:
            continue
        other_row = other_row or any(c.get("value") == OTHER_ROW for c in cells)
        mine = [(record.get("metricValues") or [])[i] for i in wanted]
        if not any(float(v.get("value") or 0) for v in mine):
            continue
        rows.append({"dimensionValues": [cells[i] for i in kept_dims], "metricValues": mine})
    metadata = dict(body.get("metadata") or {})
    sampling = metadata.pop("samplingMetadatas", None)
    if sampling:
        ours = sampling[pack.range_index(member)]
        if int(ours.get("samplesReadCount", 0)) < int(ours.get("samplingSpaceSize", 0)):
            metadata["samplingMetadatas"] = [ours]
    if not other_row:
        metadata.pop("dataLossFromOtherRow", None)
    part = {
        "dimensionHeaders": [{"name": dims[i]} for i in kept_dims],
        "metricHeaders": [metric_headers[i] for i in wanted],
        "rowCount": len(rows),
        "metadata": metadata,
    }
    return part, rows


def _number(text: str, type_: str | None) -> int | float:
    value = float(text)
    return int(value) if type_ == "TYPE_INTEGER" else value
