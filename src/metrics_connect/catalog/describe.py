"""A catalog as GET /integrations/{slug}/catalog shows it (labels, types, aggregation)."""

from __future__ import annotations

from typing import Any

from metrics_connect.catalog.loader import Catalog
from metrics_connect.catalog.schema import FilterDef, MetricDef


def _filters(filters: tuple[FilterDef, ...]) -> list[dict[str, Any]]:
    return [{"field": f.field, "operator": f.operator, "value": f.value} for f in filters]


def _aggregation(metric: MetricDef) -> str:
    if metric.ratio is not None:
        return "ratio"
    if metric.sum_of:
        return "sum"
    if metric.per_day:
        return "per_day"
    kinds = {s.aggregation for s in metric.sources}
    return kinds.pop() if len(kinds) == 1 else "by_source"


def describe_catalog(catalog: Catalog) -> dict[str, Any]:
    doc = catalog.doc
    metrics = []
    for name, metric in doc.metrics.items():
        entry: dict[str, Any] = {
            "name": name,
            "label": metric.label,
            "unit": metric.unit,
            "aggregation": _aggregation(metric),
            "description": metric.description,
            "deprecated": metric.deprecated,
        }
        if metric.sources:
            entry["sources"] = [
                {
                    "dataset": s.dataset,
                    "field": s.field,
                    "aggregation": s.aggregation,
                    "only_with": list(s.only_with),
                }
                for s in metric.sources
            ]
        if metric.ratio is not None:
            entry["ratio"] = metric.ratio.model_dump()
        if metric.sum_of:
            entry["sum_of"] = list(metric.sum_of)
        if metric.per_day:
            entry["per_day"] = metric.per_day
        metrics.append(entry)
    dimensions = [
        {
            "name": name,
            "label": dim.label,
            "type": dim.kind,
            "field": dim.field,
            "dataset": dim.dataset,
            "filters": _filters(dim.filters),
            "value_labels": dim.value_labels,
            "deprecated": dim.deprecated,
        }
        for name, dim in doc.dimensions.items()
    ]
    widgets = [
        {
            "reference_key": key,
            "component": widget.component,
            "metrics": list(widget.metrics or ()),
            "dimensions": [
                d
                if isinstance(d, str)
                else {"field": d.field, "operator": d.operator, "value": d.value}
                for d in widget.dimensions or ()
            ],
            "sort": list(widget.sort),
            "chart_type": widget.chart_type,
            "combine": widget.combine,
            "deprecated": widget.deprecated,
            "note": widget.note,
        }
        for key, widget in doc.widgets.items()
    ]
    datasets = [
        {
            "name": spec.name,
            "kind": spec.kind,
            "fields": list(spec.fields),
            "breakdowns": list(spec.breakdowns),
            "settle_after_days": spec.settle_after_days,
            "fresh_seconds": spec.fresh_seconds,
            "live_days": spec.live_days,
            "description": spec.description,
        }
        for spec in catalog.datasets.values()
    ]
    return {
        "slug": doc.slug,
        "name": doc.name,
        "description": doc.description,
        "components": list(doc.components),
        "datasets": datasets,
        "metrics": metrics,
        "dimensions": dimensions,
        "widgets": widgets,
    }
