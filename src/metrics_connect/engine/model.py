"""The engine's vocabulary: resolved widgets, metric trees, source plans, widget errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from metrics_connect.catalog.schema import Aggregation, FilterDef
from metrics_connect.connectors.base import DatasetKind, FetchRequest, Filter
from metrics_connect.engine.facts import variant_key
from metrics_connect.engine.records import RECORDS_VARIANT

GroupKind = Literal["date", "hour", "category", "item"]


class WidgetError(Exception):
    """A widget that cannot be answered: {"error": {"code", "message"}} in its place."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class GroupDim:
    """A dimension that groups: its name, label, how a record yields its value."""

    name: str
    label: str
    kind: GroupKind
    field: str | None = None
    value_labels: tuple[tuple[str, str], ...] = ()
    values: tuple[str, ...] = ()
    label_field: str | None = None
    # Category groups keyed by another field than the one that labels them (ids).
    key_field: str | None = None

    @property
    def grouping_field(self) -> str:
        return self.key_field or self.field or ""

    def value_label(self, value: str) -> str:
        for raw, label in self.value_labels:
            if raw == value:
                return label
        return value


@dataclass(frozen=True)
class SourcePlan:
    """One metric's source, specialised for a widget: what to fetch and how to aggregate."""

    dataset: str
    kind: DatasetKind
    field: str | None
    aggregation: Aggregation
    breakdowns: tuple[str, ...]
    pushdown: tuple[Filter, ...]
    options: tuple[tuple[str, str], ...]
    local_filters: tuple[FilterDef, ...]
    groups: tuple[GroupDim, ...]
    # Records datasets (docs/records.md): the date field whose day puts a record in a
    # period; the duration measured (start field, end field, unit); the field naming the
    # currency of a money field (a sum across currencies is refused).
    date_field: str | None = None
    duration: tuple[str, str, str] | None = None
    currency_field: str | None = None
    to_date: bool = False  # records dated up to the period's end, not only within it

    def fetch_request(self, start: date, end: date) -> FetchRequest:
        return FetchRequest(
            dataset=self.dataset,
            start=start,
            end=end,
            breakdowns=self.breakdowns,
            filters=self.pushdown,
            options=self.options,
        )

    @property
    def variant(self) -> str:
        if self.kind == "records":
            return RECORDS_VARIANT  # read whole, by dataset: no breakdowns, no pushdown
        return variant_key(self.fetch_request(date.min, date.min))


@dataclass(frozen=True)
class MetricNode:
    """A metric of a widget: a source, a ratio of two nodes, or a sum of nodes."""

    name: str
    label: str
    unit: str
    source: SourcePlan | None = None
    ratio: tuple[MetricNode, MetricNode] | None = None
    scale: float = 1.0
    complement: bool = False
    sum_of: tuple[MetricNode, ...] = ()
    # `name:average`: the mean per item of the widget's item dimension.
    average: bool = False
    # A `per_day` metric: its one part's value divided by the period's days.
    per_day: bool = False
    # A ratio part that cannot split by the widget's dimensions: its total serves each row.
    whole: bool = False
    # The same metric without the widget's groups: a table's Total cell for metrics whose
    # rows cannot be totalled (period-unique counts), from the network's whole-period figure.
    total: MetricNode | None = None

    def sources(self) -> list[SourcePlan]:
        found: list[SourcePlan] = []
        if self.total is not None:
            found += self.total.sources()
        if self.source is not None:
            found.append(self.source)
        if self.ratio is not None:
            found += self.ratio[0].sources() + self.ratio[1].sources()
        for part in self.sum_of:
            found += part.sources()
        return found

    @property
    def totalable(self) -> bool:
        """Whether a Total cell can aggregate its rows (not period-unique counts by group)."""
        if self.source is not None:
            return self.source.aggregation not in ("period", "attribute") or not self.source.groups
        if self.ratio is not None:
            return all(p.totalable for p in self.ratio)
        return all(p.totalable for p in self.sum_of)

    @property
    def textual(self) -> bool:
        """Whether its value is text (names, ids, dates): an attribute, never a number."""
        return self.source is not None and self.source.aggregation == "attribute"

    @property
    def additive(self) -> bool:
        """Whether a Total row can aggregate it (period-unique and attributes cannot)."""
        if self.source is not None:
            return self.source.aggregation not in ("period", "attribute")
        if self.sum_of:
            return all(p.additive for p in self.sum_of)
        return True


@dataclass
class ResolvedWidget:
    id: str
    component: str
    reference_key: str | None
    metrics: list[MetricNode] = field(default_factory=list)
    groups: list[GroupDim] = field(default_factory=list)
    item_dataset: str | None = None
    sort: list[str] = field(default_factory=list)
    combine: str = "first"
    chart_type: str | None = None
    custom: dict[str, Any] | None = None
    deprecated: str | None = None
    error: WidgetError | None = None

    def sources(self) -> list[SourcePlan]:
        found: list[SourcePlan] = []
        for metric in self.metrics:
            found += metric.sources()
        return found
