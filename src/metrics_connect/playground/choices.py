"""What the playground offers to run for a network: its catalog's widgets, as a list.

The predefined widgets (by `reference_key`) come first, then every metric of the
catalog on its own as a `number_v1`. Each choice carries the widget body that
`POST /metrics/get-data` takes, and a label to search by.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from metrics_connect.catalog.loader import get_catalog
from metrics_connect.catalog.schema import CatalogDoc, FilterDef, WidgetDef

METRIC_PREFIX = "metric:"
GROUPING_KINDS = {"date", "hour", "category", "item"}


@dataclass(frozen=True)
class WidgetChoice:
    key: str  # the reference_key, or "metric:<name>" for a lone metric
    label: str
    component: str
    predefined: bool
    widget: dict[str, Any]  # the get-data widget without its id
    chart_type: str | None
    deprecated: str | None
    note: str

    def matches(self, query: str) -> bool:
        words = query.lower().split()
        text = f"{self.label} {self.key}".lower()
        return all(word in text for word in words)


def _filter_words(f: FilterDef) -> str:
    value = ", ".join(map(str, f.value)) if isinstance(f.value, list) else f.value
    return f"{f.field} {f.operator.lower().replace('_', ' ')} {value}"


def _label(doc: CatalogDoc, widget: WidgetDef, component: str) -> str:
    metrics = [doc.metrics[m].label if m in doc.metrics else m for m in widget.metrics or ()]
    text = " & ".join(metrics) or "Widget"
    groups: list[str] = []
    narrowing: list[str] = []
    for dim in widget.dimensions or ():
        if isinstance(dim, FilterDef):
            narrowing.append(_filter_words(dim))
            continue
        name = dim.split(":", 1)[0]
        found = doc.dimensions.get(name)
        if found is None:
            narrowing.append(dim)
        elif found.kind in GROUPING_KINDS and component != "number_v1":
            groups.append(found.label)
        else:
            narrowing.append(found.label)
    if groups:
        text += " by " + " and ".join(groups)
    if narrowing:
        text += f" ({', '.join(narrowing)})"
    return text


def _widget_body(key: str, widget: WidgetDef, component: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference_key": key,
        "component": component,
        "metrics": list(widget.metrics or ()),
        "dimensions": [
            d
            if isinstance(d, str)
            else {"field": d.field, "operator": d.operator, "value": d.value}
            for d in widget.dimensions or ()
        ],
    }
    if widget.sort:
        body["sort"] = list(widget.sort)
    if widget.chart_type:
        body["chart_type"] = widget.chart_type
    return body


@cache
def widget_choices(slug: str) -> tuple[WidgetChoice, ...]:
    catalog = get_catalog(slug)
    if catalog is None:
        return ()
    doc = catalog.doc
    out: list[WidgetChoice] = []
    for key, widget in doc.widgets.items():
        component = widget.component or "number_v1"
        out.append(
            WidgetChoice(
                key=key,
                label=_label(doc, widget, component),
                component=component,
                predefined=True,
                widget=_widget_body(key, widget, component),
                chart_type=widget.chart_type,
                deprecated=widget.deprecated,
                note=widget.note,
            )
        )
    for name, metric in doc.metrics.items():
        out.append(
            WidgetChoice(
                key=METRIC_PREFIX + name,
                label=metric.label,
                component="number_v1",
                predefined=False,
                widget={"component": "number_v1", "metrics": [name], "dimensions": []},
                chart_type=None,
                deprecated=metric.deprecated,
                note=metric.description,
            )
        )
    return tuple(out)


def choices_by_key(slug: str) -> dict[str, WidgetChoice]:
    return {choice.key: choice for choice in widget_choices(slug)}
