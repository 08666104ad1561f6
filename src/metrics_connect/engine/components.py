"""Rendering: a resolved widget's aggregates in its component's shape (docs/engine.md).

number_v1     {"values": n, "comparison": {"values", "difference", "absoluteDifference"}}
chart_v1      {"labels": [...], "values": [{"label", "data": [...]}], "comparison"?: same form}
datatable_v1  {"headers": [...], "values": [[...], ..., ["Total", ...]], "comparison"?}
datagrid_v1   like datatable_v1
container_v1  like datatable_v1, without the Total row
pipeline_v1   {"labels": [stage labels], "values": [n, ...], "comparison": {"values": [...]|null}}
iconsList_v1  {"values": [{"label", "value", "comparison": {...}}]}
wysiwyg_v1    {"values": <custom.values or "">} (presentational, no data)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from metrics_connect.engine.aggregate import (
    Aggregator,
    Key,
    Value,
    _number,
    clean,
    empty_value,
    ratio_value,
)
from metrics_connect.engine.model import GroupDim, MetricNode, ResolvedWidget, WidgetError

TOTAL_LABEL = "Total"
ITEM_LABEL_LENGTH = 80


def comparison_block(
    value: Value, previous: Value | None, has_comparison: bool, *, textual: bool = False
) -> dict[str, Any]:
    """API.md: absoluteDifference = values - comparison; difference in percent, null on 0.

    A text figure (an attribute such as an account id, even one of digits) is compared
    by showing the comparison period's text: its differences are null, never numeric.
    """
    if not has_comparison:
        return {"values": None, "difference": None, "absoluteDifference": None}
    if textual or isinstance(value, str) or isinstance(previous, str):
        return {"values": previous, "difference": None, "absoluteDifference": None}
    current, before = _number(value), _number(previous)
    absolute = None if current is None or before is None else current - before
    difference = None
    if absolute is not None and before not in (None, 0):
        difference = round(absolute / before * 100, 2)  # type: ignore[operator]
    return {
        "values": clean(previous),
        "difference": difference,
        "absoluteDifference": clean(absolute),
    }


def _figure_is_text(widget: ResolvedWidget) -> bool:
    """number_v1's figure is text when it is its first metric's and that one is text."""
    if widget.combine in ("ratio", "sum") or not widget.metrics:
        return False
    return widget.metrics[0].textual


def _figure(widget: ResolvedWidget, agg: Aggregator) -> Value:
    """number_v1's one figure: the catalog's combine rule over the widget's metrics."""
    totals = [agg.total(m) for m in widget.metrics]
    if widget.combine == "ratio" and len(totals) >= 2:
        return ratio_value(_number(totals[0]), _number(totals[1]), 1.0, False)
    if widget.combine == "sum":
        numbers = [_number(t) for t in totals if _number(t) is not None]
        return sum(numbers) if numbers else None  # type: ignore[arg-type]
    return totals[0]


def days_of(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def _item_labels(widget: ResolvedWidget, agg: Aggregator, group: GroupDim) -> dict[str, str]:
    labels: dict[str, str] = {}
    for node in widget.metrics:
        for plan in node.sources():
            if plan.kind != "objects":
                continue
            for record in agg.records(plan):
                if record.item is None or record.item in labels:
                    continue
                raw = record.fields.get(group.label_field or "") if group.label_field else None
                text = str(raw).strip().splitlines()[0] if raw else record.item
                labels[record.item] = text[:ITEM_LABEL_LENGTH]
    return labels


def _key_labels(widget: ResolvedWidget, agg: Aggregator, group: GroupDim) -> dict[str, str]:
    """A category keyed by ids: each id's label (its `field`, a name) from the records."""
    labels: dict[str, str] = {}
    key_field, label_field = group.grouping_field, group.field or ""
    for node in widget.metrics:
        for plan in node.sources():
            for record in agg.records(plan):
                key = record.fields.get(key_field)
                if key is None or str(key) in labels:
                    continue
                name = record.fields.get(label_field)
                labels[str(key)] = str(name) if name is not None else str(key)
    return labels


class _Table:
    """Per-key values of every metric, and the ordered keys of a widget."""

    def __init__(self, widget: ResolvedWidget, agg: Aggregator, start: date, end: date) -> None:
        self.widget = widget
        self.agg = agg
        self.groups = widget.groups
        self.columns = [agg.values(m, self.groups) for m in widget.metrics]
        keys: set[Key] = set()
        for column in self.columns:
            keys |= set(column)
        self.items: dict[str, str] = {}
        self.names: dict[str, dict[str, str]] = {}
        for group in self.groups:
            if group.kind == "item":
                self.items = _item_labels(widget, agg, group)
            elif group.key_field:
                self.names[group.name] = _key_labels(widget, agg, group)
        self.keys = self._order(keys, start, end)

    def _order(self, keys: set[Key], start: date, end: date) -> list[Key]:
        ordered = sorted(keys)
        sort_index, descending = self._sort_spec()
        if sort_index is not None:
            column = self.columns[sort_index]

            def by_metric(key: Key) -> tuple[int, Any]:
                value = _number(column.get(key))
                if value is None:
                    return (1, 0)
                return (0, -value if descending else value)

            return sorted(ordered, key=by_metric)
        by_group = self._group_sort()
        if by_group is not None:
            index, descending = by_group
            group = self.groups[index]
            return sorted(
                ordered, key=lambda k: _natural(self.label(group, k[index])), reverse=descending
            )
        if self.groups and self.groups[0].kind in ("date", "hour"):
            return sorted(ordered, key=lambda k: _natural(k[0]))
        if self.columns:
            first = self.columns[0]
            return sorted(ordered, key=lambda k: -(_number(first.get(k)) or 0))
        return ordered

    def _sort_spec(self) -> tuple[int | None, bool]:
        names = [m.name for m in self.widget.metrics]
        for raw in self.widget.sort:
            descending = raw.startswith("-")
            name = raw.lstrip("-+").removeprefix("metrics.")
            if name in names:
                return names.index(name), descending
        return None, False

    def _group_sort(self) -> tuple[int, bool] | None:
        """`sort` naming one of the widget's dimensions ("userAgeBracket"): by its values."""
        names = [g.name for g in self.groups]
        for raw in self.widget.sort:
            name = raw.lstrip("-+")
            if name in names:
                return names.index(name), raw.startswith("-")
        return None

    def label(self, group: GroupDim, value: str) -> str:
        if group.kind == "item":
            return self.items.get(value, value)
        if group.key_field:
            value = self.names.get(group.name, {}).get(value, value)
        return group.value_label(value)

    def cell(self, index: int, key: Key) -> Value:
        node = self.widget.metrics[index]
        column = self.columns[index]
        if key in column:
            return clean(column[key])
        return clean(empty_value(node))


def _natural(value: str) -> tuple[int, Any]:
    number = _number(value)
    return (0, number) if number is not None else (1, value)


def _chart(widget: ResolvedWidget, agg: Aggregator, start: date, end: date) -> dict[str, Any]:
    table = _Table(widget, agg, start, end)
    groups = widget.groups
    if not groups:
        return {
            "labels": [TOTAL_LABEL],
            "values": [{"label": m.label, "data": [clean(agg.total(m))]} for m in widget.metrics],
        }
    first = groups[0]
    first_values = _axis(first, [k[0] for k in table.keys], start, end)
    if len(groups) == 1:
        return {
            "labels": [table.label(first, v) for v in first_values],
            "values": [
                {"label": m.label, "data": [table.cell(i, (v,)) for v in first_values]}
                for i, m in enumerate(widget.metrics)
            ],
        }
    second = groups[1]
    second_values = _axis(second, _dedupe(k[1] for k in table.keys), start, end)
    return {
        "labels": [table.label(first, v) for v in first_values],
        "values": [
            {
                "label": table.label(second, s),
                "data": [table.cell(0, (v, s) + ("",) * (len(groups) - 2)) for v in first_values],
            }
            for s in second_values
        ],
    }


def _dedupe(values: Any) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def _axis(group: GroupDim, present: list[str], start: date, end: date) -> list[str]:
    if group.kind == "date":
        return days_of(start, end)
    if group.values:
        extra = [v for v in _dedupe(present) if v not in group.values]
        return list(group.values) + extra
    return _dedupe(present)


def _datatable(
    widget: ResolvedWidget, agg: Aggregator, start: date, end: date, *, total_row: bool
) -> dict[str, Any]:
    table = _Table(widget, agg, start, end)
    headers = [g.label for g in widget.groups] + [m.label for m in widget.metrics]
    rows: list[list[Any]] = []
    for key in table.keys:
        labels = [table.label(g, v) for g, v in zip(widget.groups, key, strict=False)]
        rows.append(labels + [table.cell(i, key) for i in range(len(widget.metrics))])
    if total_row:
        lead: list[Any] = [TOTAL_LABEL] + [""] * (len(widget.groups) - 1) if widget.groups else []
        rows.append(lead + [clean(_column_total(m, agg)) for m in widget.metrics])
    return {"headers": headers, "values": rows}


def _column_total(node: MetricNode, agg: Aggregator) -> Value:
    """A Total cell: the metric over all rows; ratios from totals; unique counts: the
    network's figure for the whole period when the catalog has a source for it, else null."""
    if node.total is not None:
        try:
            return agg.total(node.total)
        except WidgetError:
            return None
    if not node.totalable:
        return None
    return agg.total(node)


def _pipeline(widget: ResolvedWidget, agg: Aggregator) -> dict[str, Any]:
    return {
        "labels": [m.label for m in widget.metrics],
        "values": [clean(agg.total(m)) for m in widget.metrics],
    }


Renderer = Callable[[ResolvedWidget, Aggregator, date, date], dict[str, Any]]


def render(
    widget: ResolvedWidget,
    current: Aggregator | None,
    previous: Aggregator | None,
) -> dict[str, Any]:
    """The component's body; `previous` is the comparison period's aggregator, if any."""
    component = widget.component
    if component == "wysiwyg_v1":
        custom = widget.custom or {}
        return {"values": custom.get("values", "")}
    assert current is not None
    has_comparison = previous is not None
    if component == "number_v1":
        value = _figure(widget, current)
        before = _figure(widget, previous) if previous is not None else None
        return {
            "values": clean(value),
            "comparison": comparison_block(
                value, before, has_comparison, textual=_figure_is_text(widget)
            ),
        }
    if component == "iconsList_v1":
        return {
            "values": [
                {
                    "label": m.label,
                    "value": clean(current.total(m)),
                    "comparison": comparison_block(
                        current.total(m),
                        previous.total(m) if previous is not None else None,
                        has_comparison,
                        textual=m.textual,
                    ),
                }
                for m in widget.metrics
            ]
        }
    if component == "pipeline_v1":
        body = _pipeline(widget, current)
        body["comparison"] = {
            "values": _pipeline(widget, previous)["values"] if previous is not None else None
        }
        return body
    renderers: dict[str, Renderer] = {
        "chart_v1": _chart,
        "datatable_v1": lambda w, a, s, e: _datatable(w, a, s, e, total_row=True),
        "datagrid_v1": lambda w, a, s, e: _datatable(w, a, s, e, total_row=True),
        "container_v1": lambda w, a, s, e: _datatable(w, a, s, e, total_row=False),
    }
    renderer = renderers[component]
    body = renderer(widget, current, current.start, current.end)
    if previous is not None:
        body["comparison"] = renderer(widget, previous, previous.start, previous.end)
    return body
