"""Aggregation: the network's semantics for each metric, as pure functions over facts.

- sum:       additive; the sum of daily values or of item values; 0 over stored days
             or items that lack the field (as over days without rows).
- last:      stock; per group, the values of the last day that has data.
- period:    period-unique; the network's own rows for the exact period, never summed
             from days (within a group, its rows are the breakdown's values).
- mean:      the mean of the values in the group.
- count:     the number of distinct items (objects) in the group.
- distinct:  the number of distinct values of a field in the group (orders of a
             category's order lines, products sold).
- attribute: an item's attribute (not totalled).
- ratio:     numerator and denominator aggregated first, then divided (x scale).
- sum_of:    the sum of other metrics' aggregates.
- :average:  the aggregate divided by the number of items of the group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from metrics_connect.catalog.schema import FilterDef
from metrics_connect.connectors.base import ObjectRow, Row, Scalar
from metrics_connect.engine.facts import FactKey, PeriodKey
from metrics_connect.engine.model import (
    GroupDim,
    MetricNode,
    ResolvedWidget,
    SourcePlan,
    WidgetError,
)
from metrics_connect.engine.numbers import number as _number
from metrics_connect.engine.records import StoredRecord

Key = tuple[str, ...]
Value = int | float | str | None


@dataclass
class Facts:
    """Everything a request reads: stored and freshly fetched rows, and what failed."""

    today: date
    rows: dict[FactKey, list[Row]] = field(default_factory=dict)
    objects: dict[FactKey, list[ObjectRow]] = field(default_factory=dict)
    periods: dict[PeriodKey, list[Row]] = field(default_factory=dict)
    # Days stored per (dataset, variant); None: do not check (unit tests of pure rules).
    coverage: dict[FactKey, set[date]] | None = None
    # Data that could not be had: fetch errors and days no one ever stored.
    failures: dict[FactKey | PeriodKey, WidgetError] = field(default_factory=dict)
    # Why stored numbers are not exact (FetchResult.notes): per day of a (dataset,
    # variant), only the days that have notes; per exact period.
    day_notes: dict[FactKey, dict[date, frozenset[str]]] = field(default_factory=dict)
    period_notes: dict[PeriodKey, frozenset[str]] = field(default_factory=dict)
    # Records datasets' live records, by dataset (docs/records.md).
    records: dict[str, list[StoredRecord]] = field(default_factory=dict)

    def period_end(self, end: date) -> date:
        """Period datasets answer up to today: a future end is read as today."""
        return min(end, self.today)

    def notes(self, plan: SourcePlan, start: date, end: date) -> set[str]:
        """The notes of what `plan` reads over [start, end] (docs/engine.md, notes)."""
        if plan.kind == "period":
            key = (plan.dataset, plan.variant, start, self.period_end(end))
            return set(self.period_notes.get(key, ()))
        found: set[str] = set()
        for day, notes in self.day_notes.get((plan.dataset, plan.variant), {}).items():
            if start <= day <= end:
                found |= notes
        return found


def _matches(flt: FilterDef, values: dict[str, Any]) -> bool:
    actual = values.get(flt.field)
    op = flt.operator.upper()
    expected = flt.value
    if op in ("EQUAL", "EQ", "=="):
        return _same(actual, expected)
    if op in ("NOT_EQUAL", "NEQ", "!="):
        return not _same(actual, expected)
    if op == "IN":
        return any(_same(actual, v) for v in _as_list(expected))
    if op == "NOT_IN":
        return not any(_same(actual, v) for v in _as_list(expected))
    if op in ("CONTAIN", "CONTAINS"):
        return actual is not None and str(expected).lower() in str(actual).lower()
    if op in ("NOT_CONTAIN", "NOT_CONTAINS"):
        return actual is None or str(expected).lower() not in str(actual).lower()
    left, right = _number(actual), _number(expected)
    if left is None or right is None:
        return False
    if op == "GREATER_THAN":
        return left > right
    if op == "LESS_THAN":
        return left < right
    if op == "GREATER_THAN_OR_EQUAL":
        return left >= right
    if op == "LESS_THAN_OR_EQUAL":
        return left <= right
    raise WidgetError("unsupported_combination", f"Unknown filter operator {flt.operator!r}.")


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set):
        return list(value)
    return [value]


def _same(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return str(actual).lower() == str(expected).lower()


@dataclass
class Record:
    """A row or object, reduced to what aggregation reads."""

    day: date | None
    item: str | None
    fields: dict[str, Any]  # keys or attributes
    values: dict[str, Scalar]


_DURATION_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def _record_items(plan: SourcePlan, facts: Facts, start: date, end: date) -> list[Record]:
    """A records dataset's records whose `date_field` falls on a day of [start, end], with
    the duration the plan measures as their `duration` value."""
    key = (plan.dataset, plan.variant)
    if key in facts.failures:
        raise facts.failures[key]
    held = facts.records.get(plan.dataset)
    if held is None:
        raise WidgetError("data_not_available", f"No {plan.dataset} records synced yet.")
    name = plan.date_field or ""
    found: list[Record] = []
    for stored in held:
        day = stored.days.get(name)
        if day is None or day > end or (day < start and not plan.to_date):
            continue
        values: dict[str, Any] = stored.fields
        if plan.duration is not None:
            first, last, unit = plan.duration
            began, ended = stored.stamps.get(first), stored.stamps.get(last)
            values = dict(stored.fields)
            values["duration"] = (
                (ended - began).total_seconds() / _DURATION_SECONDS[unit]
                if began is not None and ended is not None
                else None
            )
        found.append(Record(day, stored.id, stored.fields, values))
    return found


def _one_currency(plan: SourcePlan, found: list[Record]) -> None:
    """A money sum across currencies means nothing: refused, naming them."""
    if plan.currency_field is None or plan.field is None:
        return
    currencies = {
        str(r.fields.get(plan.currency_field))
        for r in found
        if r.values.get(plan.field) not in (None, "") and r.fields.get(plan.currency_field)
    }
    if len(currencies) > 1:
        raise WidgetError(
            "mixed_currencies",
            f"{plan.dataset} {plan.field} is in several currencies "
            f"({', '.join(sorted(currencies))}); narrow the widget to one currency.",
        )


def records(plan: SourcePlan, facts: Facts, start: date, end: date) -> list[Record]:
    key = (plan.dataset, plan.variant)
    found: list[Record] = []
    if plan.kind == "records":
        found = _record_items(plan, facts, start, end)
        for flt in plan.local_filters:
            found = [r for r in found if _matches(flt, r.fields)]
        _one_currency(plan, found)
        return found
    if plan.kind == "period":
        pkey = (plan.dataset, plan.variant, start, facts.period_end(end))
        if pkey in facts.failures:
            raise facts.failures[pkey]
        if start > facts.today:
            return []
        rows = facts.periods.get(pkey)
        if rows is None:
            raise WidgetError("data_not_available", f"No {plan.dataset} data for this period.")
        found = [Record(None, None, r.keys, r.values) for r in rows]
    else:
        if key in facts.failures:
            raise facts.failures[key]
        if facts.coverage is not None and start <= facts.today:
            covered = facts.coverage.get(key, set())
            last = min(end, facts.today)
            if not any(start <= d <= last for d in covered):
                raise WidgetError(
                    "data_not_available",
                    f"No {plan.dataset} data for {start.isoformat()}..{last.isoformat()}: "
                    "the network no longer serves it and it was not archived.",
                )
        if plan.kind == "objects":
            found = [
                Record(o.day, o.id, o.attributes, o.values)
                for o in facts.objects.get(key, ())
                if start <= o.day <= end
            ]
        else:
            found = [
                Record(r.day, None, r.keys, r.values)
                for r in facts.rows.get(key, ())
                if r.day is not None and start <= r.day <= end
            ]
    for flt in plan.local_filters:
        found = [r for r in found if _matches(flt, r.fields if flt.field in r.fields else r.values)]
    return found


def group_key(record: Record, groups: Sequence[GroupDim]) -> Key:
    parts = []
    for group in groups:
        if group.kind == "date":
            parts.append(record.day.isoformat() if record.day else "")
        elif group.kind == "item":
            parts.append(record.item or "")
        else:
            value = record.fields.get(group.grouping_field)
            parts.append("" if value is None else str(value))
    return tuple(parts)


def group_records(found: Iterable[Record], groups: Sequence[GroupDim]) -> dict[Key, list[Record]]:
    """The records per group key (as group_key), in their order."""
    if not groups:
        every = list(found)
        return {(): every} if every else {}
    readers = [_key_reader(group) for group in groups]
    buckets: dict[Key, list[Record]] = defaultdict(list)
    if len(readers) == 1:
        read = readers[0]
        for record in found:
            buckets[(read(record),)].append(record)
    else:
        for record in found:
            buckets[tuple([read(record) for read in readers])].append(record)
    return buckets


def _key_reader(group: GroupDim) -> Callable[[Record], str]:
    """group_key's part for one group, for many records."""
    if group.kind == "date":
        names: dict[date, str] = {}

        def read_day(record: Record) -> str:
            day = record.day
            if day is None:
                return ""
            name = names.get(day)
            if name is None:
                name = names[day] = day.isoformat()
            return name

        return read_day
    if group.kind == "item":
        return lambda record: record.item or ""
    field = group.grouping_field

    def read_field(record: Record) -> str:
        value = record.fields.get(field)
        if value is None:
            return ""
        return value if type(value) is str else str(value)

    return read_field


def aggregate_source(
    plan: SourcePlan, found: Iterable[Record], groups: Sequence[GroupDim]
) -> dict[Key, Value]:
    return reduce_groups(plan, group_records(found, groups))


def reduce_groups(plan: SourcePlan, buckets: dict[Key, list[Record]]) -> dict[Key, Value]:
    name = plan.field or ""
    return {key: _reduce(plan, name, bucket) for key, bucket in buckets.items()}


def _reduce(plan: SourcePlan, name: str, bucket: list[Record]) -> Value:
    aggregation = plan.aggregation
    if plan.duration is not None:
        name = "duration"
    if aggregation == "count":
        if plan.field is None:
            return len({r.item for r in bucket})
        aggregation = "sum"
    if aggregation == "distinct":
        return len({str(v) for r in bucket if (v := r.fields.get(name)) not in (None, "")})
    if aggregation == "attribute":
        for record in bucket:
            value = record.fields.get(name, record.values.get(name))
            if value is not None:
                return value if isinstance(value, int | float | str) else str(value)
        return None
    if aggregation == "last":
        numbers: list[tuple[date | None, float | int]] = []
        for record in bucket:
            value = _numeric(record.values.get(name))
            if value is not None:
                numbers.append((record.day, value))
        if not numbers:
            # A text stock ("campaign last sent" of a daily snapshot): the latest day's.
            texts = [
                (record.day or date.min, text)
                for record in bucket
                if isinstance(text := record.values.get(name), str) and text
            ]
            return max(texts)[1] if texts else None
        last_day = (
            max(d for d, _ in numbers if d is not None) if any(d for d, _ in numbers) else None
        )
        return sum(v for d, v in numbers if d == last_day)
    values: list[float | int] = []
    for record in bucket:
        value = _numeric(record.values.get(name))
        if value is not None:
            values.append(value)
    if aggregation == "mean":
        return sum(values) / len(values) if values else None
    # A sum over stored rows that do not carry the field is 0, not unknown: the rows are
    # of days (or the period) the store holds, and networks leave out what is zero (Meta
    # lists only the action types that occurred). Same figure as a period without rows.
    return sum(values)


def _numeric(value: Any) -> float | int | None:
    kind = type(value)
    if kind is int or kind is float:
        return value
    return None if value is None else _number(value)


def last_only_reads(widgets: Iterable[ResolvedWidget]) -> dict[FactKey, frozenset[str]]:
    """Day keys that only `last` aggregations read, with the fields they read.

    A `last` aggregate not grouped by day and without local filters reads, per group,
    the group's last day with data: the store decodes only those rows of such keys
    (FactStore.load's `last_only`). A key that any other reader needs (a sum, a mean, a
    daily series of followers) is not listed and is read whole.
    """
    fields: dict[FactKey, set[str]] = {}
    whole: set[FactKey] = set()
    for widget in widgets:
        if widget.error is not None:
            continue
        by_day = any(g.kind == "date" for g in widget.groups)
        for plan in widget.sources():
            if plan.kind not in ("daily", "snapshot"):
                continue
            key = (plan.dataset, plan.variant)
            if (
                plan.aggregation != "last"
                or plan.field is None
                or plan.local_filters
                or by_day
                or any(g.kind == "date" for g in plan.groups)
            ):
                whole.add(key)
            else:
                fields.setdefault(key, set()).add(plan.field)
    return {key: frozenset(names) for key, names in fields.items() if key not in whole}


def item_counts(
    plan: SourcePlan, found: Iterable[Record], groups: Sequence[GroupDim]
) -> dict[Key, int]:
    items: dict[Key, set[str]] = defaultdict(set)
    for record in found:
        if record.item is not None:
            items[group_key(record, groups)].add(record.item)
    return {k: len(v) for k, v in items.items()}


class Aggregator:
    """Aggregates metric trees over one period.

    Memoised for the aggregator's life (one request and period): each source's records
    (shared by the plans that read the same rows with the same filters), their grouping
    and each node's values per groups. Callers must not mutate what it returns.
    """

    def __init__(self, facts: Facts, start: date, end: date) -> None:
        self.facts = facts
        self.start = start
        self.end = end
        self._records: dict[SourcePlan, list[Record]] = {}
        self._sources: dict[tuple[Any, ...], list[Record]] = {}
        # By id of a list held in _sources (alive as long as this aggregator).
        self._groups: dict[tuple[int, tuple[GroupDim, ...]], dict[Key, list[Record]]] = {}
        self._values: dict[tuple[MetricNode, tuple[GroupDim, ...]], dict[Key, Value]] = {}

    def records(self, plan: SourcePlan) -> list[Record]:
        found = self._records.get(plan)
        if found is None:
            # What records() reads of a plan: the same rows for the same variant.
            source = (
                plan.kind,
                plan.dataset,
                plan.breakdowns,
                plan.pushdown,
                plan.options,
                plan.local_filters,
                plan.date_field,
                plan.duration,
                plan.to_date,
            )
            found = self._sources.get(source)
            if found is None:
                found = records(plan, self.facts, self.start, self.end)
                self._sources[source] = found
            self._records[plan] = found
        return found

    def grouped(self, plan: SourcePlan, groups: tuple[GroupDim, ...]) -> dict[Key, list[Record]]:
        found = self.records(plan)
        key = (id(found), groups)
        buckets = self._groups.get(key)
        if buckets is None:
            buckets = group_records(found, groups)
            self._groups[key] = buckets
        return buckets

    def values(self, node: MetricNode, groups: Sequence[GroupDim]) -> dict[Key, Value]:
        """The node's value per group key (only keys that have data)."""
        groups = () if node.whole else tuple(groups)
        memo = (node, groups)
        cached = self._values.get(memo)
        if cached is not None:
            return cached
        if node.source is not None:
            result = reduce_groups(node.source, self.grouped(node.source, groups))
        elif node.ratio is not None:
            result = self._ratio(node, groups)
        else:
            result = self._sum(node, groups)
        if node.per_day:
            days = (self.end - self.start).days + 1
            result = {
                k: (n / days if (n := _number(v)) is not None else None) for k, v in result.items()
            }
        if node.average:
            counts = self.item_counts(node, groups)
            result = {
                k: (_number(v) / counts[k]) if counts.get(k) and _number(v) is not None else None  # type: ignore[operator]
                for k, v in result.items()
            }
        self._values[memo] = result
        return result

    def item_counts(self, node: MetricNode, groups: Sequence[GroupDim]) -> dict[Key, int]:
        for plan in node.sources():
            if plan.kind in ("objects", "records"):
                return item_counts(plan, self.records(plan), groups)
        return {}

    def _ratio(self, node: MetricNode, groups: Sequence[GroupDim]) -> dict[Key, Value]:
        assert node.ratio is not None
        top, bottom = node.ratio
        numerators = self.values(top, groups)
        denominators = self.values(bottom, groups)
        keys = set(numerators) | (set() if bottom.whole else set(denominators))
        if top.whole:
            keys |= set(denominators)
        result: dict[Key, Value] = {}
        for key in keys:
            n = _number(numerators.get(key, numerators.get(()) if top.whole else None))
            d = _number(denominators.get(key, denominators.get(()) if bottom.whole else None))
            result[key] = ratio_value(n, d, node.scale, node.complement)
        if not keys and not groups:
            result[()] = None
        return result

    def _sum(self, node: MetricNode, groups: Sequence[GroupDim]) -> dict[Key, Value]:
        parts = [self.values(p, groups) for p in node.sum_of]
        result: dict[Key, Value] = {}
        for key in set().union(*parts):
            numbers = [_number(p.get(key)) for p in parts]
            present = [n for n in numbers if n is not None]
            result[key] = sum(present) if present else None
        return result

    def total(self, node: MetricNode) -> Value:
        """The node's single figure over the period (no grouping)."""
        values = self.values(node, ())
        if () in values:
            return values[()]
        return empty_value(node)


def empty_value(node: MetricNode) -> Value:
    """A metric's value when no record falls in the period: 0 for counts and sums."""
    if (
        node.source is not None
        and node.source.aggregation in ("sum", "count", "period", "distinct")
        and not node.average
    ):
        return 0
    if node.sum_of and all(empty_value(p) == 0 for p in node.sum_of):
        return 0
    return None


def ratio_value(
    n: float | int | None, d: float | int | None, scale: float, complement: bool
) -> Value:
    if n is None or d is None or d == 0:
        return None
    share = n / d
    return scale * (1 - share) if complement else scale * share


def clean(value: Value) -> Value:
    """Round floats for the wire (4 decimals); whole floats of counts stay exact."""
    if isinstance(value, float):
        return round(value, 4)
    return value
