"""GA4's call economy: a dashboard's fetches packed into shared reports, five a batch.

A Data API v1beta report takes up to 4 date ranges, 10 metrics and 9 dimensions, and
`batchRunReports` up to 5 reports. Fetches share a report when GA4 computes each one's
rows there as in a report of its own: the same dimensions and filter, metrics of one
scope (`extra.report_scope`: event data, items, linked Google Ads, linked Search
Console) and, with a demographic dimension (data thresholds then withhold rows by
their users, whatever the other metrics), one dataset. A fetch of another date range
adds a range: its rows come back under the `dateRange` dimension (`date_range_<i>`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from metrics_connect.connectors.base import FetchRequest

MAX_DATE_RANGES = 4
MAX_METRICS = 10
MAX_DIMENSIONS = 9
REPORTS_PER_BATCH = 5
# Asked or filtered on, these put a report under GA4's data thresholds.
THRESHOLDED_DIMENSIONS = frozenset({"userAgeBracket", "userGender"})


def report_body(
    ranges: Sequence[tuple[date, date]],
    dimensions: Sequence[str],
    metrics: Sequence[str],
    dimension_filter: dict[str, Any] | None,
    limit: int | None = None,
) -> dict[str, Any]:
    """A runReport body; without a limit, the paginator adds its own."""
    body: dict[str, Any] = {
        "dateRanges": [
            {"startDate": start.isoformat(), "endDate": end.isoformat()} for start, end in ranges
        ],
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


@dataclass(frozen=True)
class Shape:
    """What a fetch asks of GA4: its report's dimensions, filter and metrics."""

    dimensions: tuple[str, ...]
    dimension_filter: dict[str, Any] | None
    metrics: tuple[str, ...]
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
class SharedReport:
    """One report answering several fetches: the union of their metrics and ranges."""

    bucket: tuple[str, ...]
    shape: Shape
    metrics: list[str] = field(default_factory=list)
    ranges: list[tuple[date, date]] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)

    def fits(self, member: Member) -> bool:
        metrics = set(self.metrics) | set(member.shape.metrics)
        ranges = set(self.ranges) | {member.date_range}
        return len(metrics) <= MAX_METRICS and len(ranges) <= MAX_DATE_RANGES

    def add(self, member: Member) -> None:
        self.members.append(member)
        self.metrics += [m for m in member.shape.metrics if m not in self.metrics]
        if member.date_range not in self.ranges:
            self.ranges.append(member.date_range)

    def range_index(self, member: Member) -> int:
        return self.ranges.index(member.date_range)

    def body(self, page_size: int) -> dict[str, Any]:
        return report_body(
            self.ranges, self.shape.dimensions, self.metrics, self.shape.dimension_filter, page_size
        )

    def summary(self) -> str:
        """The report in one line, for ?explain=true."""
        parts = [
            "dateRanges=" + ",".join(f"{s.isoformat()}..{e.isoformat()}" for s, e in self.ranges),
            "dimensions=" + ",".join(self.shape.dimensions),
            "metrics=" + ",".join(self.metrics),
        ]
        if self.shape.dimension_filter is not None:
            parts.append(
                "dimensionFilter=" + json.dumps(self.shape.dimension_filter, sort_keys=True)
            )
        return "; ".join(parts)


def _bucket(member: Member) -> tuple[str, ...]:
    shape = member.shape
    thresholded = bool(THRESHOLDED_DIMENSIONS & (set(shape.dimensions) | shape.filter_fields))
    return (
        ",".join(shape.dimensions),
        json.dumps(shape.dimension_filter, sort_keys=True) if shape.dimension_filter else "",
        shape.scope,
        member.request.dataset if thresholded else "",
    )


def pack(
    requests: Sequence[FetchRequest], shape_of: Callable[[FetchRequest], Shape]
) -> list[SharedReport]:
    """The fewest reports (first fit, in a fixed order) answering every fetch. The
    members of some of the reports, packed alone, give those reports again: a batch
    can be re-planned from its own fetches."""
    members = [Member(i, r, shape_of(r)) for i, r in enumerate(requests)]
    members.sort(
        key=lambda m: (_bucket(m), m.request.dataset, m.request.start, m.request.end, m.index)
    )
    reports: list[SharedReport] = []
    open_reports: dict[tuple[str, ...], list[SharedReport]] = {}
    for member in members:
        bucket = _bucket(member)
        candidates = open_reports.setdefault(bucket, [])
        target = next((r for r in candidates if r.fits(member)), None)
        if target is None:
            target = SharedReport(bucket, member.shape)
            candidates.append(target)
            reports.append(target)
        target.add(member)
    return reports


def batches(reports: list[SharedReport]) -> list[list[SharedReport]]:
    return [reports[i : i + REPORTS_PER_BATCH] for i in range(0, len(reports), REPORTS_PER_BATCH)]


def member_answer(
    report: SharedReport, member: Member, body: dict[str, Any], records: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One fetch's part of a shared report's answer, as its own report would have
    answered: its date range's rows without the `dateRange` dimension, its metrics
    only, rows with none of them set left out (keepEmptyRows false), and the metadata
    of its range (sampling is said per range)."""
    dims = [h["name"] for h in body.get("dimensionHeaders") or []]
    metric_headers = body.get("metricHeaders") or []
    wanted = [i for i, h in enumerate(metric_headers) if h.get("name") in member.shape.metrics]
    many_ranges = "dateRange" in dims
    range_at = dims.index("dateRange") if many_ranges else -1
    range_name = f"date_range_{report.range_index(member)}"
    kept_dims = [i for i, d in enumerate(dims) if d != "dateRange"]
    rows: list[dict[str, Any]] = []
    other_row = False
    for record in records:
        cells = record.get("dimensionValues") or []
        if many_ranges and cells[range_at].get("value") != range_name:
            continue
        other_row = other_row or any(c.get("value") == "(other)" for c in cells)
        values = record.get("metricValues") or []
        mine = [values[i] for i in wanted]
        if not any(float(v.get("value") or 0) for v in mine):
            continue
        rows.append({"dimensionValues": [cells[i] for i in kept_dims], "metricValues": mine})
    metadata = dict(body.get("metadata") or {})
    sampling = metadata.pop("samplingMetadatas", None)
    if sampling:
        mine_sampled = sampling[report.range_index(member)]
        if int(mine_sampled.get("samplesReadCount", 0)) < int(
            mine_sampled.get("samplingSpaceSize", 0)
        ):
            metadata["samplingMetadatas"] = [mine_sampled]
    if not other_row:
        metadata.pop("dataLossFromOtherRow", None)
    part = {
        "dimensionHeaders": [{"name": dims[i]} for i in kept_dims],
        "metricHeaders": [metric_headers[i] for i in wanted],
        "rowCount": len(rows),
        "metadata": metadata,
    }
    return part, rows
