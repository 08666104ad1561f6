"""searchAnalytics.query: a request body -> the API's rows.

What the emulator follows (developers.google.com/webmaster-tools/v1/searchanalytics/query):
startDate/endDate (Pacific time, required), dimensions (query, page, country, device,
date, searchAppearance; searchAppearance alone), type (or the older searchType) web,
image, video, news, discover, googleNews (the last two without query or position),
dimensionFilterGroups (and; equals, notEquals, contains, notContains, includingRegex,
excludingRegex), aggregationType (auto, byProperty, byPage: byProperty refuses page),
rowLimit 1..25,000 (default 1,000) and startRow, dataState final (default) or all.
Rows are sorted by date when grouped by date, else by clicks descending. Final data
ends three days before today; `all` adds the fresh days (today partial) and says
where they begin in `metadata.first_incomplete_date`. Data is kept 16 months.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from metrics_connect.networks.search_console.emulator.data import (
    NO_QUERY_TYPES,
    SEARCH_TYPES,
    TRAFFIC,
    Cell,
    appearances_of,
    day_cells,
)
from metrics_connect.sandbox.kit.calendar import LocalDays
from metrics_connect.sandbox.kit.google import GoogleError

PACIFIC = "America/Los_Angeles"
DIMENSIONS = ("query", "page", "country", "device", "date", "searchAppearance")
FILTER_DIMENSIONS = ("query", "page", "country", "device", "searchAppearance")
OPERATORS = (
    "equals",
    "notEquals",
    "contains",
    "notContains",
    "includingRegex",
    "excludingRegex",
)
AGGREGATIONS = ("auto", "byProperty", "byPage")
DATA_STATES = ("final", "all")
MAX_ROW_LIMIT = 25_000
DEFAULT_ROW_LIMIT = 1_000
FINAL_DELAY_DAYS = 3  # final data ends this many days before today (Pacific time)
KEPT_MONTHS = 16
# Fresh (not final) days other than today carry this share of their final figures.
FRESH_SHARE = 0.97


def bad(message: str) -> GoogleError:
    return GoogleError(message, 400)


def canonical(value: object, choices: tuple[str, ...]) -> str | None:
    """An enum value as the API accepts it: `googleNews` or its proto name `GOOGLE_NEWS`
    (google-api-python-client's discovery document lists the latter)."""
    folded = str(value).replace("_", "").lower()
    return next((c for c in choices if c.lower() == folded), None)


@dataclass(frozen=True)
class Filter:
    dimension: str
    operator: str
    expression: str

    def keeps(self, value: str) -> bool:
        if self.dimension in ("country", "device"):
            value, expression = value.lower(), self.expression.lower()
        else:
            expression = self.expression
        match self.operator:
            case "equals":
                return value == expression
            case "notEquals":
                return value != expression
            case "contains":
                return expression.lower() in value.lower()
            case "notContains":
                return expression.lower() not in value.lower()
            case "includingRegex":
                return re.search(expression, value) is not None
            case _:
                return re.search(expression, value) is None


@dataclass(frozen=True)
class Query:
    start: date
    end: date
    dimensions: tuple[str, ...]
    search_type: str
    filters: tuple[Filter, ...]
    aggregation: str
    row_limit: int
    start_row: int
    data_state: str


def _day(body: dict[str, Any], name: str) -> date:
    value = body.get(name)
    if not value:
        raise bad(f"Missing required field: {name}.")
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise bad(f"Invalid {name}: '{value}'. Expected format YYYY-MM-DD.") from None


def _int(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool):
        raise bad(f"Invalid value at '{name}' (TYPE_INT32), {value}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad(f"Invalid value at '{name}' (TYPE_INT32), \"{value}\"") from None


def _filters(body: dict[str, Any]) -> tuple[Filter, ...]:
    out: list[Filter] = []
    for g, group in enumerate(body.get("dimensionFilterGroups") or []):
        if not isinstance(group, dict) or group.get("groupType", "and") != "and":
            raise bad(f"Invalid value at 'dimension_filter_groups[{g}].group_type'.")
        for f, item in enumerate(group.get("filters") or []):
            where = f"dimension_filter_groups[{g}].filters[{f}]"
            if not isinstance(item, dict):
                raise bad(f"Invalid value at '{where}'.")
            dimension = canonical(item.get("dimension", ""), FILTER_DIMENSIONS)
            operator = canonical(item.get("operator") or "equals", OPERATORS)
            if dimension is None:
                raise bad(f"Invalid value at '{where}.dimension' (TYPE_ENUM)")
            if operator is None:
                raise bad(f"Invalid value at '{where}.operator' (TYPE_ENUM)")
            expression = str(item.get("expression") or "")
            if operator.endswith("Regex"):
                try:
                    re.compile(expression)
                except re.error:
                    raise bad(f"Invalid regular expression: {expression}") from None
            out.append(Filter(dimension, operator, expression))
    return tuple(out)


def parse(body: Any) -> Query:
    if not isinstance(body, dict):
        raise bad("Invalid JSON payload received.")
    start, end = _day(body, "startDate"), _day(body, "endDate")
    if end < start:
        raise bad("The end date must be on or after the start date.")
    names = []
    for i, given in enumerate(body.get("dimensions") or []):
        name = canonical(given, DIMENSIONS)
        if name is None:
            raise bad(f"Invalid value at 'dimensions[{i}]' (TYPE_ENUM), \"{given}\"")
        names.append(name)
    dimensions = tuple(names)
    if len(set(dimensions)) != len(dimensions):
        raise bad("A dimension may be requested only once.")
    if "searchAppearance" in dimensions and len(dimensions) > 1:
        raise bad("Search appearance cannot be grouped with other dimensions.")
    given_type = body.get("type") or body.get("searchType") or "web"
    search_type = canonical(given_type, tuple(SEARCH_TYPES))
    if search_type is None:
        raise bad(f"Invalid value at 'type' (TYPE_ENUM), \"{given_type}\"")
    filters = _filters(body)
    if search_type in NO_QUERY_TYPES and (
        "query" in dimensions or any(f.dimension == "query" for f in filters)
    ):
        raise bad(f"The query dimension is not supported for type {search_type}.")
    given_aggregation = body.get("aggregationType") or "auto"
    aggregation = canonical(given_aggregation, AGGREGATIONS)
    if aggregation is None:
        raise bad(f"Invalid value at 'aggregation_type' (TYPE_ENUM), \"{given_aggregation}\"")
    by_page = "page" in dimensions or any(f.dimension == "page" for f in filters)
    if aggregation == "byProperty" and by_page:
        raise bad("Cannot aggregate by property when grouping or filtering by page.")
    row_limit = _int(body, "rowLimit", DEFAULT_ROW_LIMIT)
    if not 1 <= row_limit <= MAX_ROW_LIMIT:
        raise bad(f"rowLimit must be between 1 and {MAX_ROW_LIMIT}: {row_limit}.")
    start_row = _int(body, "startRow", 0)
    if start_row < 0:
        raise bad(f"startRow must not be negative: {start_row}.")
    data_state = canonical(body.get("dataState") or "final", DATA_STATES)
    if data_state is None:
        raise bad(f'Invalid value at \'data_state\' (TYPE_ENUM), "{body.get("dataState")}"')
    if aggregation == "auto":
        aggregation = "byPage" if by_page else "byProperty"
    return Query(
        start, end, dimensions, search_type, filters, aggregation, row_limit, start_row, data_state
    )


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, d)
        except ValueError:
            continue
    raise AssertionError(day)


def served_days(traffic: str, query: Query, now: datetime) -> Iterator[tuple[date, float]]:
    """The days of the request the API has data for, each with its completeness."""
    days = LocalDays(PACIFIC)
    today = days.day_of(now)
    last_final = today - timedelta(days=FINAL_DELAY_DAYS)
    last = today if query.data_state == "all" else last_final
    first = max(query.start, months_before(today, KEPT_MONTHS), TRAFFIC[traffic].start)
    day = first
    while day <= min(query.end, last):
        if day <= last_final:
            share = 1.0
        elif day == today:
            share = days.elapsed_share(day, now)
        else:
            share = FRESH_SHARE
        yield day, share
        day += timedelta(days=1)


def _scaled(cell: Cell, share: float) -> Cell:
    if share >= 1.0:
        return cell
    impressions = round(cell.impressions * share)
    clicks = min(impressions, round(cell.clicks * share))
    position = cell.position_sum / cell.impressions if cell.impressions else 0.0
    return Cell(
        cell.query, cell.page, cell.country, cell.device, impressions, clicks,
        position * impressions,
    )  # fmt: skip


def _keys(cell: Cell, day: date, query: Query, origin: str) -> list[tuple[str, ...]]:
    """The row keys a cell counts in (several for search appearances, none if hidden)."""
    keys: list[str] = []
    for name in query.dimensions:
        match name:
            case "query":
                if not cell.query:
                    return []
                keys.append(cell.query)
            case "page":
                keys.append(cell.page)
            case "country":
                keys.append(cell.country)
            case "device":
                keys.append(cell.device)
            case "date":
                keys.append(day.isoformat())
            case _:
                return [(a,) for a in appearances_of(cell.page, origin)]
    return [tuple(keys)]


def _kept(cell: Cell, query: Query, origin: str) -> bool:
    for f in query.filters:
        if f.dimension == "query":
            if not cell.query or not f.keeps(cell.query):
                return False
        elif f.dimension == "searchAppearance":
            found = appearances_of(cell.page, origin)
            if f.operator.startswith("not") or f.operator == "excludingRegex":
                if not all(f.keeps(a) for a in found):
                    return False
            elif not any(f.keeps(a) for a in found):
                return False
        elif not f.keeps(getattr(cell, f.dimension)):
            return False
    return True


def run_query(traffic: str, query: Query, now: datetime) -> dict[str, Any]:
    origin = TRAFFIC[traffic].origin
    sums: dict[tuple[str, ...], list[float]] = {}
    served = list(served_days(traffic, query, now))
    for day, share in served:
        for raw in day_cells(traffic, query.search_type, day):
            if not _kept(raw, query, origin):
                continue
            cell = _scaled(raw, share)
            if cell.impressions == 0:
                continue
            for key in _keys(cell, day, query, origin):
                total = sums.setdefault(key, [0.0, 0.0, 0.0])
                total[0] += cell.clicks
                total[1] += cell.impressions
                total[2] += cell.position_sum
    if "date" in query.dimensions:
        at = query.dimensions.index("date")
        order = sorted(sums, key=lambda k: (k[at], -sums[k][0], -sums[k][1], k))
    else:
        order = sorted(sums, key=lambda k: (-sums[k][0], -sums[k][1], k))
    page = order[query.start_row : query.start_row + query.row_limit]
    body: dict[str, Any] = {}
    if page:
        body["rows"] = [_row(key, sums[key], query) for key in page]
    body["responseAggregationType"] = query.aggregation
    if query.data_state == "all":
        fresh = [day for day, share in served if share < 1.0]
        if fresh:
            body["metadata"] = {"firstIncompleteDate": fresh[0].isoformat()}
    return body


def _row(key: tuple[str, ...], total: list[float], query: Query) -> dict[str, Any]:
    clicks, impressions, position_sum = total
    row: dict[str, Any] = {"keys": list(key)} if query.dimensions else {}
    row["clicks"] = clicks
    row["impressions"] = impressions
    row["ctr"] = clicks / impressions
    if query.search_type not in NO_QUERY_TYPES:
        row["position"] = position_sum / impressions
    return row
