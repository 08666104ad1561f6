"""Report queries and result tables as Google's older reporting APIs take and answer
them (Analytics Core Reporting, the video analytics API): `startDate` and `endDate`,
comma-separated `metrics` and `dimensions`, `filters` as `name==a,b;other==c` (a
filter's values are alternatives, filters all apply), `sort` by column names (`-`:
descending), a 1-based `startIndex` and `maxResults`; answered as a result table, its
`columnHeaders` then its `rows` (left out when there are none).

Refusals are the network's own words: `refuse(kind, **values)` builds them, kind one of
`required` (name), `not_a_date` (text), `not_an_integer` (text), `dates_reversed`,
`bad_filter` (part), `start_index` and `unknown_sort` (name)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from metrics_connect.sandbox.kit.report_rows import order_rows

Refuse = Callable[..., Exception]


@dataclass(frozen=True)
class ReportQuery:
    start: date
    end: date
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    filters: dict[str, tuple[str, ...]]
    sort: tuple[str, ...]
    max_results: int | None
    start_index: int


def _date(params: Mapping[str, str], name: str, refuse: Refuse) -> date:
    text = params.get(name)
    if not text:
        raise refuse("required", name=name)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise refuse("not_a_date", text=text) from None


def _int(params: Mapping[str, str], name: str, refuse: Refuse) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise refuse("not_an_integer", text=text) from None


def _names(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(n for n in (params.get(name) or "").split(",") if n)


def parse_report_query(params: Mapping[str, str], refuse: Refuse) -> ReportQuery:
    """The query's dates, columns, filters, order and window, checked in that order."""
    start, end = _date(params, "startDate", refuse), _date(params, "endDate", refuse)
    if end < start:
        raise refuse("dates_reversed")
    metrics = _names(params, "metrics")
    if not metrics:
        raise refuse("required", name="metrics")
    filters: dict[str, tuple[str, ...]] = {}
    for part in (params.get("filters") or "").split(";"):
        if not part:
            continue
        name, sep, value = part.partition("==")
        if not sep or not value:
            raise refuse("bad_filter", part=part)
        filters[name] = tuple(value.split(","))
    start_index = _int(params, "startIndex", refuse) or 1
    if start_index < 1:
        raise refuse("start_index")
    return ReportQuery(
        start,
        end,
        metrics,
        _names(params, "dimensions"),
        filters,
        _names(params, "sort"),
        _int(params, "maxResults", refuse),
        start_index,
    )


def _sorted(rows: list[list[Any]], query: ReportQuery, refuse: Refuse) -> list[list[Any]]:
    columns = [*query.dimensions, *query.metrics]
    sorts: list[tuple[Callable[[list[Any]], Any], bool]] = []
    for key in reversed(query.sort):
        name = key.lstrip("-")
        if name not in columns:
            raise refuse("unknown_sort", name=name)
        index = columns.index(name)
        sorts.insert(0, (lambda r, i=index: r[i], key.startswith("-")))  # type: ignore[misc]
    out = list(rows)
    order_rows(out, lambda r: tuple(str(v) for v in r[: len(query.dimensions)]), sorts)
    return out


def result_table(
    kind: str,
    query: ReportQuery,
    rows: list[list[Any]],
    float_metrics: Collection[str],
    refuse: Refuse,
) -> dict[str, Any]:
    """The answer of `kind`: rows (dimension values, then metric values) in the order of
    their dimensions, then of `sort`, from `startIndex` and at most `maxResults` of them;
    a metric's column is FLOAT when named in `float_metrics`, else INTEGER."""
    rows = _sorted(rows, query, refuse)
    first = query.start_index - 1
    rows = rows[first : first + query.max_results] if query.max_results else rows[first:]
    headers = [
        {"name": d, "columnType": "DIMENSION", "dataType": "STRING"} for d in query.dimensions
    ]
    for m in query.metrics:
        data_type = "FLOAT" if m in float_metrics else "INTEGER"
        headers.append({"name": m, "columnType": "METRIC", "dataType": data_type})
    body: dict[str, Any] = {"kind": kind, "columnHeaders": headers}
    if rows:
        body["rows"] = rows
    return body
