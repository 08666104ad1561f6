"""runReport: validate a RunReportRequest and evaluate it over the property's raw data.

Follows the Data API v1beta: up to 4 date ranges (a `dateRange` dimension is added
when there are several), at most 9 dimensions and 10 metrics, FilterExpressions (filters.py) for
dimensions (before aggregation) and metrics (after), orderBys, limit (at most 250,000)
and offset paging with `rowCount`, TOTAL/MAXIMUM/MINIMUM aggregations and
keepEmptyRows. Unique metrics (users, sessions) are distinct counts over the exact
date range, never sums of days; rates are computed per row from their parts, as GA4
defines them.
"""

from __future__ import annotations

import gc
import json
import re
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from metrics_connect.networks.google_analytics_4.emulator.data import (
    Hit,
    ItemLine,
    PropertyData,
    Session,
    clear_data_caches,
)
from metrics_connect.networks.google_analytics_4.emulator.fidelity import (
    sampling_metadatas,
    thresholded,
)
from metrics_connect.networks.google_analytics_4.emulator.filters import (
    compile_dimension_filter,
    compile_metric_filter,
)
from metrics_connect.networks.google_analytics_4.emulator.schema import (
    DIMENSIONS,
    METRICS,
    MetricDef,
    check_compatibility,
    linked_dimension,
    refused,
    session_dimensions,
)
from metrics_connect.sandbox.kit.filter_expressions import Predicate, filter_fields, to_float
from metrics_connect.sandbox.kit.report_rows import Row, extremes, fold_other, order_rows

MAX_DATE_RANGES = 4
MAX_DIMENSIONS = 9
MAX_METRICS = 10
MAX_LIMIT = 250_000
DEFAULT_LIMIT = 10_000


# --- date ranges ---

_DAYS_AGO = re.compile(r"^(\d+)daysAgo$")


def parse_date(value: Any, today: date, what: str) -> date:
    if not isinstance(value, str) or not value:
        raise refused("date_required", what=what)
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    match = _DAYS_AGO.match(value)
    if match:
        return today - timedelta(days=int(match.group(1)))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise refused("bad_date", what=what, value=value) from None


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date
    name: str


def parse_date_ranges(raw: Any, today: date) -> list[DateRange]:
    if not raw:
        raise refused("no_date_ranges")
    if len(raw) > MAX_DATE_RANGES:
        raise refused("too_many", limit=MAX_DATE_RANGES, what="dateRanges")
    out = []
    for index, item in enumerate(raw):
        start = parse_date(item.get("startDate"), today, "startDate")
        end = parse_date(item.get("endDate"), today, "endDate")
        if start > end:
            raise refused("dates_reversed", start=start, end=end)
        if start < date(2015, 8, 14):
            raise refused("too_early")
        name = item.get("name") or f"date_range_{index}"
        if not isinstance(name, str) or (
            name.startswith(("date_range_", "RESERVED_")) and item.get("name")
        ):
            raise refused("range_name", name=name)
        out.append(DateRange(start, end, name))
    return out


# --- aggregation ---


@dataclass
class Acc:
    values: dict[str, float] = field(default_factory=dict)
    sets: dict[str, set[int]] = field(default_factory=dict)
    # Linked products' sums, in the order of _LINKED_PARTS.
    linked: dict[str, list[float]] = field(
        default_factory=lambda: {"ads": [0.0, 0.0, 0.0], "search": [0.0, 0.0, 0.0]}
    )


# Distinct-count codes of the metric formulas (data.yaml's `metrics`).
_DISTINCT = frozenset({"S", "ES", "U", "AU", "NU", "PU", "FPU", "KS", "KU", "VU", "CU"})
# The summed fields of the linked products' rows (data.py's GoogleAdsRow, SearchConsoleRow).
_LINKED_PARTS = {
    "ads": ("clicks", "cost", "impressions"),
    "search": ("clicks", "impressions", "position_sum"),
}


def _n(acc: Acc, key: str) -> float:
    return float(len(acc.sets.get(key, ())))


@dataclass(frozen=True)
class Formula:
    """A metric's value from a group's accumulators, and what it needs computed per
    fact: distinct-count codes, "V" for value fields, "ADS" / "SC" for linked rows."""

    read: Callable[[Acc], float]
    needs: frozenset[str]
    values: frozenset[str]


def _term(term: str) -> tuple[Callable[[Acc], float], str]:
    if term in _DISTINCT:
        return (lambda a: _n(a, term)), term
    product, _, part = term.partition(".")
    if product in _LINKED_PARTS:
        i = _LINKED_PARTS[product].index(part)
        return (lambda a: a.linked[product][i]), "ADS" if product == "ads" else "SC"
    return (lambda a: a.values.get(term, 0.0)), "V"


def _formula(metric: MetricDef) -> Formula:
    text = metric.value or metric.name
    complement = text.startswith("1 - ")
    parts = text.removeprefix("1 - ").split(" / ")
    terms = [_term(t) for t in parts]
    needs = frozenset(need for _, need in terms)
    values = frozenset(t for t, (_, need) in zip(parts, terms, strict=True) if need == "V")
    if len(terms) == 1:
        return Formula(terms[0][0], needs, values)
    (num, _), (den, _) = terms

    def ratio(a: Acc) -> float:
        below = den(a)
        if not below:
            return 0.0
        return 1 - num(a) / below if complement else num(a) / below

    return Formula(ratio, needs, values)


FORMULAS = {name: _formula(m) for name, m in METRICS.items()}


def metric_value(name: str, acc: Acc) -> float:
    return FORMULAS[name].read(acc)


Fact = tuple[Session, Hit | None, ItemLine | None, dict[str, float]]


def _facts(sessions: list[Session], grain: str) -> Iterator[Fact]:
    for s in sessions:
        if grain == "session":
            yield s, None, None, s.totals
        elif grain == "event":
            for h in s.hits:
                yield s, h, None, h.values
        else:
            for it in s.items:
                yield s, None, it, it.values


def _new_sets() -> dict[str, set[int]]:
    return defaultdict(set)


# The value fields by which a fact (an event or session; an item) shows a viewed, carted
# and bought item.
_EVENT_STEPS = ("itemViewEvents", "addToCarts", "ecommercePurchases")
_ITEM_STEPS = ("itemsViewed", "itemsAddedToCart", "itemsPurchased")


def _add_fact(acc: Acc, fact: Fact) -> None:
    """Add one fact to every accumulator of a group (values and distinct ids)."""
    s, hit, item, values = fact
    target = acc.values
    get = target.get
    for name, x in values.items():
        target[name] = get(name, 0.0) + x
    sets = acc.sets
    uid = s.user.user_id
    sid = s.session_id
    sets["S"].add(sid)
    sets["U"].add(uid)
    if s.engaged:
        sets["ES"].add(sid)
        sets["AU"].add(uid)
    elif s.new_user:
        sets["AU"].add(uid)
    if s.new_user and (hit is None or hit.event_name == "first_visit"):
        sets["NU"].add(uid)
    vget = values.get
    viewed, carted, bought = map(vget, _EVENT_STEPS if item is None else _ITEM_STEPS)
    if bought:
        sets["PU"].add(uid)
    if vget("firstPurchases"):
        sets["FPU"].add(uid)
    if vget("keyEvents"):
        sets["KS"].add(sid)
        sets["KU"].add(uid)
    if viewed:
        sets["VU"].add(uid)
    if carted:
        sets["CU"].add(uid)


def _linked_key(
    product: str, row: Any, key_dims: list[str], dim_filter: Predicate | None
) -> tuple[str, ...] | None:
    """A linked product's row (Google Ads, Search Console) by the report's dimensions;
    None when the report's dimension filter leaves it out."""
    if dim_filter is not None and not dim_filter(lambda name: linked_dimension(product, row, name)):
        return None
    return tuple(linked_dimension(product, row, d) for d in key_dims)


# Per-day groups of every accumulator, shared by all requests with the same dimensions
# and filter (a settled day never changes; today is recomputed as it fills).
_DAY_GROUPS: OrderedDict[tuple[Any, ...], dict[tuple[str, ...], Acc]] = OrderedDict()
_DAY_GROUPS_MAX = 12_000


def clear_caches() -> None:
    """Forget every cached day, user and day group (a benchmark's cold start)."""
    _DAY_GROUPS.clear()
    clear_data_caches()


def _day_groups(
    data: PropertyData,
    day: date,
    now: datetime,
    grain: str,
    dims: tuple[str, ...],
    filter_key: str,
    dim_filter: Predicate | None,
) -> dict[tuple[str, ...], Acc]:
    settled = day < data.local_now(now).date()
    cache_key = (data.property_id, data.seed, data.base_sessions, day, grain, dims, filter_key)
    if settled:
        cached = _DAY_GROUPS.get(cache_key)
        if cached is not None:
            _DAY_GROUPS.move_to_end(cache_key)
            return cached
    getters = [DIMENSIONS[d].get for d in dims]
    by_session = all(DIMENSIONS[d].scope in ("session", "date") for d in dims)
    groups: dict[tuple[str, ...], Acc] = {}
    for fact in _facts(data.sessions_of_day(day, now), grain):
        s, hit, item = fact[0], fact[1], fact[2]
        if dim_filter is not None and not dim_filter(
            lambda name, s=s, hit=hit, item=item: DIMENSIONS[name].get(s, hit, item)  # type: ignore[misc]
        ):
            continue
        if by_session:
            values = session_dimensions(s)
            key = tuple([values[d] for d in dims])
        else:
            key = tuple([g(s, hit, item) for g in getters])
        acc = groups.get(key)
        if acc is None:
            acc = groups[key] = Acc(sets=_new_sets())
        _add_fact(acc, fact)
    if settled:
        _DAY_GROUPS[cache_key] = groups
        if len(_DAY_GROUPS) > _DAY_GROUPS_MAX:
            _DAY_GROUPS.popitem(last=False)
    return groups


def _merge(acc: Acc, part: Acc, needs: AbstractSet[str], wanted: AbstractSet[str]) -> None:
    values = acc.values
    for name, x in part.values.items():
        if name in wanted:
            values[name] = values.get(name, 0.0) + x
    for name, ids in part.sets.items():
        if ids and name in needs:
            mine = acc.sets.get(name)
            if mine is None:
                acc.sets[name] = set(ids)
            else:
                mine |= ids


def _merge_all(acc: Acc, part: Acc) -> None:
    """Every value and distinct id of `part` into `acc` (a folded "(other)" row)."""
    _merge(acc, part, part.sets.keys(), part.values.keys())


# --- the request ---


@dataclass
class ReportResult:
    body: dict[str, Any]
    tokens: int


def names_of(raw: Any, kind: str, registry: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for item in raw or []:
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise refused("unnamed", kind=kind)
        if name not in registry and not (kind == "dimensions" and name == "dateRange"):
            raise refused("unknown_field", name=name, kind=kind[:-1])
        if name in names:
            raise refused("duplicate", kind=kind[:-1], name=name)
        names.append(name)
    return names


def table(
    dims: list[str],
    types: dict[str, str],
    rows: list[Row],
    count: int,
    metadata: dict[str, Any] | None = None,
    kind: str = "runReport",
) -> dict[str, Any]:
    """A report's answer: headers, the rows of this page, the row count, metadata."""
    answer: dict[str, Any] = {
        "dimensionHeaders": [{"name": d} for d in dims],
        "metricHeaders": [{"name": m, "type": t} for m, t in types.items()],
        "rows": [_row(key, values, types) for key, values in rows],
        "rowCount": count,
        "metadata": metadata,
        "kind": f"analyticsData#{kind}",
    }
    return {k: v for k, v in answer.items() if v or k not in ("rows", "metadata")}


def _row(key: tuple[str, ...], values: dict[str, float], types: dict[str, str]) -> dict[str, Any]:
    return {
        "dimensionValues": [{"value": v} for v in key],
        "metricValues": [{"value": _format(values[m], t)} for m, t in types.items()],
    }


def _format(value: float, type_: str) -> str:
    if type_ == "TYPE_INTEGER":
        return str(int(round(value)))
    if value == int(value) and type_ != "TYPE_FLOAT":
        return str(int(value))
    return repr(round(value, 10))


def run_report(data: PropertyData, body: Any, now: datetime) -> ReportResult:
    # The cyclic collector off meanwhile: a report allocates a container per fact while the
    # cached raw data keeps ~600,000 objects alive, and the collector's passes over them
    # took about 40 % of a runReport's CPU (reference counting still frees what it drops).
    if not gc.isenabled():
        return _run_report(data, body, now)
    gc.disable()
    try:
        return _run_report(data, body, now)
    finally:
        gc.enable()


def _run_report(data: PropertyData, body: Any, now: datetime) -> ReportResult:
    today = data.local_now(now).date()
    ranges = parse_date_ranges(body.get("dateRanges"), today)
    dims = names_of(body.get("dimensions"), "dimensions", DIMENSIONS)
    metrics = names_of(body.get("metrics"), "metrics", METRICS)
    if not metrics:
        raise refused("no_metrics")
    if len(dims) > MAX_DIMENSIONS:
        raise refused("too_many", limit=MAX_DIMENSIONS, what="dimensions")
    if len(metrics) > MAX_METRICS:
        raise refused("too_many", limit=MAX_METRICS, what="metrics")
    out_dims = list(dims)
    if len(ranges) > 1 and "dateRange" not in out_dims:
        out_dims.append("dateRange")
    dim_filter_raw = body.get("dimensionFilter")
    dim_filter = compile_dimension_filter(dim_filter_raw) if dim_filter_raw else None
    metric_filter_raw = body.get("metricFilter")
    metric_filter = (
        compile_metric_filter(metric_filter_raw, set(metrics)) if metric_filter_raw else None
    )
    used_dims = {d for d in dims if d != "dateRange"} | filter_fields(dim_filter_raw)
    check_compatibility(used_dims, metrics)
    limit, offset = _paging(body)
    keep_empty = bool(body.get("keepEmptyRows", False))
    aggregations = body.get("metricAggregations") or []

    needs = set().union(*(FORMULAS[m].needs for m in metrics))
    fidelity = data.fidelity
    withheld = thresholded(fidelity.thresholding, used_dims, metrics)
    if withheld:
        needs.add("U")  # rows are withheld by their user count
    other_row = False
    events_by_range: list[int] = []
    scopes = {DIMENSIONS[d].scope for d in used_dims}
    grain = "item" if "item" in scopes else "event" if "event" in scopes else "session"
    fact_needs = needs - {"ADS", "SC"}
    wanted = frozenset().union(*(FORMULAS[m].values for m in metrics))
    want_totals = "TOTAL" in aggregations
    key_dims = [d for d in out_dims if d != "dateRange"]
    groups: dict[tuple[str, ...], Acc] = {}
    totals: dict[str, Acc] = {}
    for rng in ranges:
        total = totals.setdefault(rng.name, Acc())
        suffix = (rng.name,) if "dateRange" in out_dims else ()
        # Sampling reads the event data; linked Ads / Search Console rows are not sampled.
        events_by_range.append(data.events(rng.start, rng.end, now) if fact_needs else 0)
        if fact_needs:
            filter_key = json.dumps(dim_filter_raw, sort_keys=True) if dim_filter_raw else ""
            plain_dims = tuple(d for d in key_dims if d != "date")
            date_at = key_dims.index("date") if "date" in key_dims else None
            for day in data.visible_days(rng.start, rng.end, now):
                day_value = day.strftime("%Y%m%d")
                day_groups = _day_groups(data, day, now, grain, plain_dims, filter_key, dim_filter)
                folded = fold_other(
                    day_groups,
                    fidelity.other_row.max_rows_per_day,
                    len(plain_dims),
                    lambda acc: len(acc.sets.get("S", ())),
                    _merge_all,
                    lambda: Acc(sets=_new_sets()),
                )
                if folded is not None:
                    day_groups, other_row = folded, True
                for plain_key, day_acc in day_groups.items():
                    if date_at is not None:
                        # One day per key: the cached accumulator's values are read as
                        # they are; linked sums go to its own lists, never into the cache.
                        key = plain_key[:date_at] + (day_value,) + plain_key[date_at:] + suffix
                        groups[key] = Acc(day_acc.values, day_acc.sets)
                        continue
                    key = plain_key + suffix
                    acc = groups.get(key)
                    if acc is None:
                        acc = groups[key] = Acc()
                    _merge(acc, day_acc, fact_needs, wanted)
                if want_totals:
                    whole = _day_groups(data, day, now, grain, (), filter_key, dim_filter)
                    for day_acc in whole.values():
                        _merge(total, day_acc, fact_needs, wanted)
        days = data.visible_days(rng.start, rng.end, now)
        linked = (("ads", "ADS", data.linked_ads), ("search", "SC", data.organic_search))
        for product, need, rows_of in linked:
            for day in days if need in needs else ():
                for row in rows_of(day, now):
                    linked_key = _linked_key(product, row, key_dims, dim_filter)
                    if linked_key is not None:
                        for acc in (groups.setdefault(linked_key + suffix, Acc()), total):
                            sums = acc.linked[product]
                            for i, part in enumerate(_LINKED_PARTS[product]):
                                sums[i] += getattr(row, part)

    rows: list[Row] = []
    for key, acc in groups.items():
        if withheld and _n(acc, "U") < fidelity.thresholding.min_users:
            continue
        values = {m: metric_value(m, acc) for m in metrics}
        if not keep_empty and not any(values.values()):
            continue
        if metric_filter is not None and not metric_filter(values.__getitem__):
            continue
        rows.append((key, values))
    _order(rows, body.get("orderBys"), out_dims, metrics)
    types: dict[str, str] = {m: METRICS[m].type for m in metrics}
    metadata = {"currencyCode": data.currency, "timeZone": data.timezone}
    response = table(out_dims, types, rows[offset : offset + limit], len(rows), metadata)
    sampled = sampling_metadatas(fidelity.sampling, events_by_range)
    if sampled is not None:
        response["metadata"]["samplingMetadatas"] = sampled
    if other_row:
        response["metadata"]["dataLossFromOtherRow"] = True
    if withheld:
        response["metadata"]["subjectToThresholding"] = True
    _aggregations(response, aggregations, rows, totals, out_dims, types)
    span = sum((r.end - r.start).days + 1 for r in ranges)
    tokens = 1 + (len(dims) + len(metrics)) // 5 + span // 90 + len(rows) // 2500
    tokens += 1 if dim_filter_raw or metric_filter_raw else 0
    return ReportResult(response, tokens)


def _paging(body: dict[str, Any]) -> tuple[int, int]:
    try:
        limit = int(body.get("limit") or DEFAULT_LIMIT)
        offset = int(body.get("offset") or 0)
    except (TypeError, ValueError):
        raise refused("paging_type") from None
    if limit < 0 or offset < 0:
        raise refused("paging_sign")
    # Above the maximum the API answers at most MAX_LIMIT rows per request.
    return min(limit or DEFAULT_LIMIT, MAX_LIMIT), offset


# Sort keys of a dimension's values by orderType (ALPHANUMERIC by default).
_ORDER_KEYS: dict[str, Callable[[str], Any]] = {
    "NUMERIC": lambda v: to_float(v) or 0.0,
    "CASE_INSENSITIVE_ALPHANUMERIC": str.lower,
}


def _order(rows: list[Row], order_bys: Any, dims: list[str], metrics: list[str]) -> None:
    if not order_bys:
        # Unspecified order: the first metric, largest first, then the dimension values.
        order_rows(rows, _dimension_values, [(lambda r: r[1][metrics[0]], True)])
        return
    sorts: list[tuple[Callable[[Row], Any], bool]] = []
    for spec in reversed(order_bys):
        desc = bool(spec.get("desc", False))
        if "metric" in spec:
            name = spec["metric"].get("metricName")
            if name not in metrics:
                raise refused("order_metric", name=name)
            sorts.insert(0, (lambda r, m=str(name): r[1][m], desc))  # type: ignore[misc]
        elif "dimension" in spec:
            name = spec["dimension"].get("dimensionName")
            if name not in dims:
                raise refused("order_dimension", name=name)
            value = _ORDER_KEYS.get(spec["dimension"].get("orderType"), str)
            at = dims.index(name)
            sorts.insert(0, (lambda r, v=value, i=at: v(r[0][i]), desc))  # type: ignore[misc]
        else:
            raise refused("order_kind")
    order_rows(rows, _dimension_values, sorts)


def _dimension_values(row: Row) -> tuple[str, ...]:
    return row[0]


def _aggregations(
    response: dict[str, Any],
    aggregations: list[str],
    rows: list[Row],
    totals: dict[str, Acc],
    dims: list[str],
    types: dict[str, str],
) -> None:
    with_range = "dateRange" in dims
    for aggregation in aggregations:
        if aggregation not in ("TOTAL", "MAXIMUM", "MINIMUM"):
            raise refused("aggregation", name=aggregation)
        out = []
        for name, acc in totals.items():
            reserved = "RESERVED_" + ("TOTAL" if aggregation == "TOTAL" else aggregation[:3])
            key = tuple(reserved for _ in dims)
            if with_range:
                key = key[:-1] + (name,)
            if aggregation == "TOTAL":
                # Totals are the figures of all matching data (unique users de-duplicated).
                values = {m: metric_value(m, acc) for m in types}
            else:
                scoped = (r for r in rows if not with_range or r[0][-1] == name)
                values = extremes(scoped, types, max if aggregation == "MAXIMUM" else min)
            out.append(_row(key, values, types))
        response[{"TOTAL": "totals", "MAXIMUM": "maximums", "MINIMUM": "minimums"}[aggregation]] = (
            out
        )
