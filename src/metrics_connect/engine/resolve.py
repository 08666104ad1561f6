"""Resolve a request's widget against the integration's catalog (docs/catalog-format.md).

Item dimensions fix the dataset; filter dimensions, filter objects, `filters` and
`entity_id`/`entity_type` narrow; date, hour and category dimensions group. Each metric
takes the first source that fits. Components that show one figure (number_v1,
pipeline_v1, iconsList_v1) do not group, so their sources fetch no breakdown at all.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from metrics_connect.catalog.loader import AVERAGE_SUFFIX, Catalog
from metrics_connect.catalog.schema import DimensionDef, FilterDef, MetricDef, SourceDef
from metrics_connect.connectors.base import DatasetSpec, Filter
from metrics_connect.engine.model import (
    GroupDim,
    MetricNode,
    ResolvedWidget,
    SourcePlan,
    WidgetError,
)
from metrics_connect.engine.request import FilterObject, WidgetIn

FIGURE_COMPONENTS = frozenset({"number_v1", "pipeline_v1", "iconsList_v1"})
PRESENTATIONAL = frozenset({"wysiwyg_v1"})
TOTAL_ROW_COMPONENTS = frozenset({"datatable_v1", "datagrid_v1"})
# Datasets of items: their filters and groups read the items' fields.
ITEM_KINDS = ("objects", "records")
_FILTER_TEXT = re.compile(r"^\s*([^=!<>~]+?)\s*(==|!=|=@|!@|>=|<=|>|<|=)\s*(.*?)\s*$")
_TEXT_OPERATORS = {
    "==": "EQUAL",
    "=": "EQUAL",
    "!=": "NOT_EQUAL",
    "=@": "CONTAIN",
    "!@": "NOT_CONTAIN",
    ">": "GREATER_THAN",
    "<": "LESS_THAN",
    ">=": "GREATER_THAN_OR_EQUAL",
    "<=": "LESS_THAN_OR_EQUAL",
}


def parse_filter(item: str | FilterObject) -> FilterDef:
    if isinstance(item, FilterObject):
        return FilterDef(
            field=item.field, operator=(item.operator or "EQUAL").upper(), value=item.value
        )
    match = _FILTER_TEXT.match(item)
    if match is None:
        raise WidgetError("unsupported_combination", f"Filter {item!r} is not field==value.")
    return FilterDef(
        field=match.group(1), operator=_TEXT_OPERATORS[match.group(2)], value=match.group(3)
    )


def _group_dim(name: str, dim: DimensionDef) -> GroupDim:
    kind = dim.kind
    assert kind != "filter"
    return GroupDim(
        name=name,
        label=dim.label,
        kind=kind,
        field=dim.field,
        value_labels=tuple(dim.value_labels.items()),
        values=dim.values,
        label_field=dim.label_field,
        key_field=dim.key_field,
    )


class _Context:
    """What a widget asks of every metric source: dataset, groups, filters."""

    def __init__(
        self,
        catalog: Catalog,
        dim_names: set[str],
        item: DimensionDef | None,
        groups: list[GroupDim],
        filters: list[FilterDef],
    ) -> None:
        self.catalog = catalog
        self.dim_names = dim_names
        self.item = item
        self.groups = groups
        self.filters = filters

    def fits(
        self, source: SourceDef, spec: DatasetSpec, groups: list[GroupDim], objects_ok: bool
    ) -> bool:
        if self.item is not None:
            if spec.name != self.item.dataset:
                return False
        elif spec.kind in ITEM_KINDS and not objects_ok:
            return False
        if not set(source.only_with) <= self.dim_names:
            return False
        allowed = spec.breakdowns if source.breakdowns is None else source.breakdowns
        for group in groups:
            if not self._groups_by(spec, group, allowed):
                return False
        pushdown = self.catalog.doc.datasets.get(spec.name)
        for flt in (*self.filters, *source.filters):
            if flt.field in allowed:
                continue
            if spec.kind in ITEM_KINDS and flt.field in spec.fields:
                continue
            if pushdown is not None and flt.field in pushdown.pushdown_filters:
                continue
            return False
        return True

    @staticmethod
    def _groups_by(spec: DatasetSpec, group: GroupDim, allowed: tuple[str, ...]) -> bool:
        if group.kind == "date":
            return spec.kind in ("daily", "snapshot", "objects", "records")
        if group.kind == "item":
            return spec.kind in ITEM_KINDS
        if spec.kind == "objects":
            return group.field in spec.fields
        if spec.kind == "records":
            return group.grouping_field in spec.fields and (group.field or "") in spec.fields
        return group.field in allowed

    def plan(self, source: SourceDef, spec: DatasetSpec, groups: list[GroupDim]) -> SourcePlan:
        breakdowns: set[str] = set(source.fetch_breakdowns)
        local: list[FilterDef] = []
        pushdown: list[Filter] = []
        for group in groups:
            if spec.kind not in ITEM_KINDS and group.kind in ("category", "hour") and group.field:
                breakdowns.add(group.field)
        grouped = {group.field for group in groups}
        for flt in (*self.filters, *source.filters):
            frozen = FilterDef(field=flt.field, operator=flt.operator, value=_hashable(flt.value))
            if spec.kind in ITEM_KINDS and flt.field in spec.fields:
                local.append(frozen)
            elif flt.field in spec.breakdowns and not (
                # A unique count over several values of a breakdown is not the sum of
                # their rows (a user reached on two platforms counts once): the network
                # counts it with the filter applied.
                source.aggregation == "period"
                and spec.filters_breakdowns_upstream
                and flt.field not in grouped
                and _keeps_several(flt)
            ):
                breakdowns.add(flt.field)
                local.append(frozen)
            else:
                pushdown.append(Filter(flt.field, flt.operator, _hashable(flt.value)))
        return SourcePlan(
            dataset=spec.name,
            kind=spec.kind,
            field=source.field,
            aggregation=source.aggregation,
            breakdowns=tuple(sorted(breakdowns)),
            pushdown=tuple(sorted(pushdown, key=lambda f: (f.field, f.operator, repr(f.value)))),
            options=tuple(sorted(source.options.items())),
            local_filters=tuple(local),
            groups=tuple(groups),
            date_field=source.date_field,
            to_date=source.to_date,
            duration=(
                (source.duration.start, source.duration.end, source.duration.unit)
                if source.duration is not None
                else None
            ),
            currency_field=(
                spec.currency_field if source.field and source.field in spec.money_fields else None
            ),
        )

    def node(self, name: str, groups: list[GroupDim], depth: int = 0) -> MetricNode:
        metric = self.catalog.metric(name)
        if metric is None:
            raise WidgetError("unknown_metric", f"Unknown metric {name!r} for {self.catalog.slug}.")
        if depth > 8:
            raise WidgetError("unsupported_combination", f"Metric {name!r} nests too deeply.")
        return self._node(name, metric, groups, depth)

    def _node(self, name: str, metric: MetricDef, groups: list[GroupDim], depth: int) -> MetricNode:
        if metric.ratio is not None:
            parts = []
            for index, part in enumerate((metric.ratio.numerator, metric.ratio.denominator)):
                if index == 1 and metric.ratio.of_total and groups:
                    parts.append(_as_whole(self.node(part, [], depth + 1)))
                    continue
                try:
                    parts.append(self.node(part, groups, depth + 1))
                except WidgetError:
                    if not groups:
                        raise
                    # Not splittable by the widget's groups: its whole serves each row.
                    whole = self.node(part, [], depth + 1)
                    parts.append(_as_whole(whole))
            return MetricNode(
                name=name,
                label=metric.label,
                unit=metric.unit,
                ratio=(parts[0], parts[1]),
                scale=metric.ratio.scale,
                complement=metric.ratio.complement,
            )
        if metric.sum_of:
            return MetricNode(
                name=name,
                label=metric.label,
                unit=metric.unit,
                sum_of=tuple(self.node(p, groups, depth + 1) for p in metric.sum_of),
            )
        if metric.per_day:
            return MetricNode(
                name=name,
                label=metric.label,
                unit=metric.unit,
                sum_of=(self.node(metric.per_day, groups, depth + 1),),
                per_day=True,
            )
        # Without an item dimension, account-level sources first; object datasets
        # (posts, stories) only when nothing else fits.
        for objects_ok in (False, True):
            for source in metric.sources:
                spec = self.catalog.datasets[source.dataset]
                if self.fits(source, spec, groups, objects_ok):
                    return MetricNode(
                        name=name,
                        label=metric.label,
                        unit=metric.unit,
                        source=self.plan(source, spec, groups),
                    )
        raise WidgetError(
            "unsupported_combination",
            f"Metric {name!r} cannot be answered with dimensions "
            f"{sorted(self.dim_names) or '[]'} on {self.catalog.slug}.",
        )


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _as_whole(node: MetricNode) -> MetricNode:
    return MetricNode(
        name=node.name,
        label=node.label,
        unit=node.unit,
        source=node.source,
        ratio=node.ratio,
        scale=node.scale,
        complement=node.complement,
        sum_of=node.sum_of,
        per_day=node.per_day,
        whole=True,
    )


def _with_whole_total(context: _Context, name: str, node: MetricNode) -> MetricNode:
    """A metric whose rows cannot be totalled (users by country) gets its Total from the
    same metric resolved without the widget's groups: the whole period's own figure."""
    if node.totalable:
        return node
    try:
        whole = context.node(name, [])
    except WidgetError:
        return node
    return replace(node, total=whole) if whole.totalable else node


def reference_prefixes(catalog: Catalog) -> set[str]:
    return {key.partition(":")[0] for key in catalog.doc.widgets if ":" in key}


def resolve_widget(catalog: Catalog, widget: WidgetIn) -> ResolvedWidget:
    """The widget as the engine will compute it, or carrying its WidgetError."""
    resolved = ResolvedWidget(
        id=widget.id,
        component=widget.component,
        reference_key=widget.reference_key,
        sort=widget.sort_keys,
        chart_type=widget.chart_type,
        custom=widget.custom,
    )
    try:
        _resolve_into(catalog, widget, resolved)
    except WidgetError as exc:
        resolved.error = exc
        resolved.metrics = []
    return resolved


def _resolve_into(catalog: Catalog, widget: WidgetIn, resolved: ResolvedWidget) -> None:
    metric_names: list[str] = list(widget.metrics)
    dim_refs: list[str | FilterObject | FilterDef] = list(widget.dimensions)
    key = widget.reference_key
    predefined = catalog.doc.widgets.get(key) if key else None
    if key and predefined is None and ":" in key:
        prefix = key.partition(":")[0]
        if prefix not in reference_prefixes(catalog):
            raise WidgetError(
                "unknown_reference_key",
                f"Reference key {key!r} does not belong to {catalog.slug}.",
            )
    if predefined is not None:
        if predefined.metrics is not None:
            metric_names = list(predefined.metrics)
        if predefined.dimensions is not None:
            dim_refs = list(predefined.dimensions)
        if predefined.component is not None:
            resolved.component = predefined.component
        resolved.combine = predefined.combine
        if not resolved.sort:
            resolved.sort = list(predefined.sort)
        resolved.chart_type = resolved.chart_type or predefined.chart_type
        resolved.deprecated = predefined.deprecated
    if resolved.component not in catalog.doc.components:
        raise WidgetError(
            "unsupported_combination", f"Component {resolved.component!r} is not supported."
        )
    if resolved.component in PRESENTATIONAL:
        return
    if not metric_names:
        raise WidgetError("unknown_metric", "The widget names no metric.")

    dim_names: set[str] = set()
    item: DimensionDef | None = None
    groups: list[GroupDim] = []
    filters: list[FilterDef] = []
    for ref in dim_refs:
        if (
            isinstance(ref, FilterObject)
            and ref.operator is None
            and catalog.dimension(ref.field) is not None
        ):
            ref = ref.field  # {"field": "campaign"} names the catalog's dimension
        if isinstance(ref, str):
            dim = catalog.dimension(ref)
            if dim is None:
                raise WidgetError(
                    "unknown_dimension", f"Unknown dimension {ref!r} for {catalog.slug}."
                )
            dim_names.add(ref)
            filters.extend(dim.filters)
            if dim.kind == "item":
                if item is not None and item.dataset != dim.dataset:
                    raise WidgetError(
                        "unsupported_combination", "Two item dimensions of different datasets."
                    )
                if item is None:
                    item = dim
                    # Records are counted and summed, never listed one per row: their
                    # item dimension (deal, contact) only chooses the dataset.
                    if catalog.datasets[dim.dataset or ""].kind != "records":
                        groups.append(_group_dim(ref, dim))
            elif dim.kind != "filter":
                groups.append(_group_dim(ref, dim))
        elif isinstance(ref, FilterObject) and ref.operator is None:
            # {"field": "x"}: group by that breakdown or attribute.
            dim_names.add(ref.field)
            groups.append(
                GroupDim(name=ref.field, label=ref.field, kind="category", field=ref.field)
            )
        else:
            filters.append(parse_filter(ref) if isinstance(ref, FilterObject) else ref)
    for raw in widget.filters or []:
        filters.append(parse_filter(raw))
    if widget.entity_id is not None:
        if widget.entity_type is None:
            raise WidgetError("unsupported_combination", "entity_id needs entity_type.")
        entity = catalog.doc.entities.get(widget.entity_type)
        if entity is None:
            raise WidgetError(
                "unsupported_combination",
                f"{catalog.slug} has no {widget.entity_type} entities.",
            )
        filters.append(FilterDef(field=entity.field, operator="EQUAL", value=str(widget.entity_id)))

    if item is not None:
        resolved.item_dataset = item.dataset
    if resolved.component in FIGURE_COMPONENTS:
        groups = []
    resolved.groups = groups
    context = _Context(catalog, dim_names, item, groups, filters)
    for name in metric_names:
        average = name.endswith(AVERAGE_SUFFIX)
        base = name.removesuffix(AVERAGE_SUFFIX)
        node = context.node(base, groups)
        if average:
            if item is None:
                raise WidgetError(
                    "unsupported_combination",
                    f"{name!r} is a mean per item and needs an item dimension (stories, media).",
                )
            node = MetricNode(
                name=name,
                label=f"Average {node.label}",
                unit=node.unit,
                source=node.source,
                ratio=node.ratio,
                scale=node.scale,
                complement=node.complement,
                sum_of=node.sum_of,
                average=True,
            )
        elif groups and item is None and resolved.component in TOTAL_ROW_COMPONENTS:
            node = _with_whole_total(context, base, node)
        resolved.metrics.append(node)


def _keeps_several(flt: FilterDef) -> bool:
    """Whether the filter may keep more than one value of its field."""
    operator = flt.operator.upper()
    if operator == "EQUAL":
        return False
    if operator == "IN":
        values = flt.value if isinstance(flt.value, list | tuple) else [flt.value]
        return len(values) > 1
    return True
