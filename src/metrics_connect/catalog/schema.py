"""The catalog format (docs/catalog-format.md) as pydantic models: parsed once at start."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Aggregation = Literal["sum", "last", "period", "attribute", "count", "mean", "distinct"]
DimensionKind = Literal["date", "hour", "category", "item", "filter"]
Unit = Literal["count", "currency", "percent", "ratio", "seconds", "text", "date"]
Combine = Literal["first", "ratio", "sum"]

COMPONENTS = (
    "number_v1",
    "chart_v1",
    "datatable_v1",
    "datagrid_v1",
    "pipeline_v1",
    "iconsList_v1",
    "container_v1",
    "wysiwyg_v1",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FilterDef(_Strict):
    field: str
    operator: str = "EQUAL"
    value: Any = None


class DimensionDef(_Strict):
    label: str
    kind: DimensionKind
    # category/hour: the breakdown key or object attribute that groups.
    field: str | None = None
    # item: the objects dataset whose items it groups by.
    dataset: str | None = None
    # item: the attribute that labels a row (falls back to the object id).
    label_field: str | None = None
    # category: group by this key's value (a stable id) and label each group with
    # `field` (a name), so that two campaigns of the same name stay two rows.
    key_field: str | None = None
    filters: tuple[FilterDef, ...] = ()
    value_labels: dict[str, str] = Field(default_factory=dict)
    # Every value of the dimension, in order (hours 0-23), even those without data.
    values: tuple[str, ...] = ()
    deprecated: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _fields_by_kind(self) -> DimensionDef:
        if self.kind in ("category", "hour") and not self.field:
            raise ValueError(f"a {self.kind} dimension needs `field`")
        if self.kind == "item" and not self.dataset:
            raise ValueError("an item dimension needs `dataset`")
        if self.key_field and self.kind != "category":
            raise ValueError("only a category dimension has `key_field`")
        return self


class DurationDef(_Strict):
    """Records: a metric over the time between two date fields of a record (time to close
    = closed_at - created_at), in `unit`; records lacking either date are left out."""

    start: str
    end: str
    unit: Literal["seconds", "minutes", "hours", "days"] = "days"


class SourceDef(_Strict):
    dataset: str
    field: str | None = None
    aggregation: Aggregation
    # The source applies only to widgets that have all these dimensions.
    only_with: tuple[str, ...] = ()
    # The breakdowns the network accepts for this field (default: all of the dataset's).
    breakdowns: tuple[str, ...] | None = None
    # Breakdowns always fetched, whatever the widget groups by (data that only exists
    # per hour, say): rows are then aggregated across them.
    fetch_breakdowns: tuple[str, ...] = ()
    # Fixed filters and fetch options of this source.
    filters: tuple[FilterDef, ...] = ()
    options: dict[str, str] = Field(default_factory=dict)
    # Records datasets (docs/records.md): the date field whose day puts a record in a
    # period (created, closed, a stage entered), and the duration a metric measures.
    date_field: str | None = None
    duration: DurationDef | None = None
    # Records: count every record dated on or before the period's last day (a running
    # total: contacts held at the period's end), not only those dated within it.
    to_date: bool = False

    @model_validator(mode="after")
    def _field_needed(self) -> SourceDef:
        if self.aggregation != "count" and not self.field and self.duration is None:
            raise ValueError(f"aggregation {self.aggregation} needs `field`")
        if self.duration is not None and self.field:
            raise ValueError("a source measures a `field` or a `duration`, not both")
        return self


class RatioDef(_Strict):
    numerator: str
    denominator: str
    scale: float = 1.0
    # scale * (1 - numerator / denominator): retention-like rates.
    complement: bool = False
    # A share of the total: the denominator over the whole period, whatever the widget
    # groups by (a product's share of all sales).
    of_total: bool = False


class MetricDef(_Strict):
    label: str
    unit: Unit = "count"
    sources: tuple[SourceDef, ...] = ()
    ratio: RatioDef | None = None
    # An additive metric that is the sum of other metrics (engagement = likes + ...).
    sum_of: tuple[str, ...] = ()
    # The daily mean over the period: that metric's aggregate / the period's days (calls
    # a day), whether or not a day has data.
    per_day: str | None = None
    deprecated: str | None = None
    description: str = ""

    def parts(self) -> tuple[str, ...]:
        """The metrics it is defined in terms of."""
        ratio = (self.ratio.numerator, self.ratio.denominator) if self.ratio else ()
        return ratio + self.sum_of + ((self.per_day,) if self.per_day else ())

    @model_validator(mode="after")
    def _one_definition(self) -> MetricDef:
        given = [bool(self.sources), self.ratio is not None, bool(self.sum_of), bool(self.per_day)]
        if sum(given) != 1:
            raise ValueError("a metric has exactly one of `sources`, `ratio`, `sum_of`, `per_day`")
        return self


class WidgetDef(_Strict):
    metrics: tuple[str, ...] | None = None
    dimensions: tuple[str | FilterDef, ...] | None = None
    component: str | None = None
    sort: tuple[str, ...] = ()
    chart_type: str | None = None
    combine: Combine = "first"
    deprecated: str | None = None
    note: str = ""


class EntityDef(_Strict):
    """entity_type -> the pushdown filter field that entity_id narrows."""

    field: str


class DatasetDef(_Strict):
    """Catalog-side facts about a connector dataset: which filters it pushes down."""

    pushdown_filters: tuple[str, ...] = ()


class CatalogDoc(_Strict):
    slug: str
    name: str
    description: str = ""
    components: tuple[str, ...] = COMPONENTS
    datasets: dict[str, DatasetDef] = Field(default_factory=dict)
    entities: dict[str, EntityDef] = Field(default_factory=dict)
    dimensions: dict[str, DimensionDef]
    metrics: dict[str, MetricDef]
    widgets: dict[str, WidgetDef] = Field(default_factory=dict)
