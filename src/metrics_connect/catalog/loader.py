"""Load and validate every network's catalog once per process.

A catalog is checked against its connector's datasets (`DatasetSpec`): every source's
dataset and field exist, every category dimension groups by a breakdown or an object
attribute, every ratio/sum_of/widget names known metrics and dimensions. A catalog that
fails is an error at start, never a surprise in a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from metrics_connect import safe_yaml
from metrics_connect.catalog.schema import (
    CatalogDoc,
    DimensionDef,
    FilterDef,
    MetricDef,
    SourceDef,
)
from metrics_connect.connectors.base import DatasetSpec
from metrics_connect.connectors.registry import connector_class
from metrics_connect.logging_setup import get_logger
from metrics_connect.networks.registry import network, networks

log = get_logger("metrics_connect.catalog")

AVERAGE_SUFFIX = ":average"
# Datasets of items (posts; deals and contacts): filters and groups read their fields.
_ITEM_KINDS = ("objects", "records")


class CatalogError(ValueError):
    """A catalog that does not fit its format or its connector's datasets."""


@dataclass(frozen=True)
class Catalog:
    doc: CatalogDoc
    datasets: dict[str, DatasetSpec]

    @property
    def slug(self) -> str:
        return self.doc.slug

    @property
    def name(self) -> str:
        return self.doc.name

    def metric(self, name: str) -> MetricDef | None:
        return self.doc.metrics.get(name)

    def dimension(self, name: str) -> DimensionDef | None:
        return self.doc.dimensions.get(name)


def connector_datasets(slug: str) -> dict[str, DatasetSpec] | None:
    """The datasets a network's connector declares (None: the connector is not present)."""
    try:
        return dict(connector_class(slug).datasets)
    except (ImportError, AttributeError, KeyError):
        return None


def _check_filter_fields(
    where: str, filters: tuple[FilterDef, ...], datasets: list[DatasetSpec], doc: CatalogDoc
) -> list[str]:
    problems = []
    for flt in filters:
        ok = any(
            flt.field in spec.breakdowns
            or (spec.kind in _ITEM_KINDS and flt.field in spec.fields)
            or flt.field in doc.datasets.get(spec.name, _NO_DATASET).pushdown_filters
            for spec in datasets
        )
        if not ok:
            problems.append(f"{where}: filter field {flt.field!r} fits no dataset")
    return problems


def _check_records_source(where: str, source: SourceDef, spec: DatasetSpec) -> list[str]:
    """A records source names the date field it counts by, among the dataset's dates."""
    problems = []
    if spec.kind != "records":
        if source.date_field is not None or source.duration is not None:
            problems.append(f"{where}: `date_field` and `duration` need a records dataset")
        return problems
    if source.date_field is None:
        problems.append(f"{where}: a records source needs `date_field`")
    dates = [source.date_field] if source.date_field else []
    if source.duration is not None:
        dates += [source.duration.start, source.duration.end]
    for name in dates:
        if name not in spec.record_dates:
            problems.append(f"{where}: {spec.name} has no date field {name!r}")
    return problems


class _NoDataset:
    pushdown_filters: tuple[str, ...] = ()


_NO_DATASET = _NoDataset()


def validate(doc: CatalogDoc, datasets: dict[str, DatasetSpec]) -> list[str]:
    """Every problem of a catalog against its datasets (empty: valid)."""
    problems: list[str] = []
    all_specs = list(datasets.values())
    for name in doc.datasets:
        if name not in datasets:
            problems.append(f"datasets.{name}: the connector has no such dataset")
    for name, dim in doc.dimensions.items():
        where = f"dimensions.{name}"
        if dim.kind == "item":
            spec = datasets.get(dim.dataset or "")
            if spec is None or spec.kind not in _ITEM_KINDS:
                problems.append(f"{where}: {dim.dataset!r} is not an objects dataset")
        if dim.kind in ("category", "hour"):
            ok = any(
                dim.field in spec.breakdowns
                or (spec.kind in _ITEM_KINDS and dim.field in spec.fields)
                for spec in all_specs
            )
            if not ok:
                problems.append(f"{where}: field {dim.field!r} is no breakdown or attribute")
        scope = [datasets[dim.dataset]] if dim.dataset in datasets else all_specs
        problems += _check_filter_fields(where, dim.filters, scope, doc)
    for name, metric in doc.metrics.items():
        where = f"metrics.{name}"
        if name.endswith(AVERAGE_SUFFIX):
            problems.append(f"{where}: `{AVERAGE_SUFFIX}` is a suffix of requests, not a metric")
        for i, source in enumerate(metric.sources):
            spec = datasets.get(source.dataset)
            if spec is None:
                problems.append(f"{where}.sources.{i}: unknown dataset {source.dataset!r}")
                continue
            if source.field is not None and source.field not in spec.fields:
                problems.append(
                    f"{where}.sources.{i}: {source.dataset} has no field {source.field!r}"
                )
            if source.aggregation == "period" and spec.kind != "period":
                problems.append(f"{where}.sources.{i}: `period` needs a period dataset")
            if source.aggregation == "count" and spec.kind not in _ITEM_KINDS and not source.field:
                problems.append(f"{where}.sources.{i}: `count` without field needs objects")
            problems += _check_records_source(f"{where}.sources.{i}", source, spec)
            for name_ in source.fetch_breakdowns:
                if name_ not in spec.breakdowns:
                    problems.append(
                        f"{where}.sources.{i}: {source.dataset} has no breakdown {name_!r}"
                    )
            for dim_name in source.only_with:
                if dim_name not in doc.dimensions:
                    problems.append(f"{where}.sources.{i}: unknown dimension {dim_name!r}")
            problems += _check_filter_fields(f"{where}.sources.{i}", source.filters, [spec], doc)
        for part in metric.parts():
            if part not in doc.metrics:
                problems.append(f"{where}: unknown part metric {part!r}")
    problems += _cycles(doc)
    for key, widget in doc.widgets.items():
        where = f"widgets.{key}"
        for metric_name in widget.metrics or ():
            base = metric_name.removesuffix(AVERAGE_SUFFIX)
            if base not in doc.metrics:
                problems.append(f"{where}: unknown metric {metric_name!r}")
        for dim_ref in widget.dimensions or ():
            if isinstance(dim_ref, str) and dim_ref not in doc.dimensions:
                problems.append(f"{where}: unknown dimension {dim_ref!r}")
        if widget.component is not None and widget.component not in doc.components:
            problems.append(f"{where}: unknown component {widget.component!r}")
    return problems


def _cycles(doc: CatalogDoc) -> list[str]:
    problems = []
    for name in doc.metrics:
        seen: set[str] = set()
        stack = [name]
        while stack:
            current = stack.pop()
            metric = doc.metrics.get(current)
            if metric is None:
                continue
            for part in metric.parts():
                if part == name:
                    problems.append(f"metrics.{name}: defined in terms of itself")
                    stack.clear()
                    break
                if part not in seen:
                    seen.add(part)
                    stack.append(part)
    return problems


def parse_catalog(text: str, datasets: dict[str, DatasetSpec]) -> Catalog:
    raw = safe_yaml.load(text)
    try:
        doc = CatalogDoc.model_validate(raw)
    except ValueError as exc:
        raise CatalogError(str(exc)) from exc
    problems = validate(doc, datasets)
    if problems:
        raise CatalogError(f"catalog {doc.slug}: " + "; ".join(problems))
    return Catalog(doc=doc, datasets=datasets)


def load_network_catalog(slug: str) -> Catalog | None:
    """The catalog in a network's folder, or None when its connector is not in this build."""
    found = network(slug)
    datasets = connector_datasets(slug)
    if found is None or datasets is None:
        return None
    catalog = parse_catalog(found.catalog_text(), datasets)
    if catalog.slug != slug:
        raise CatalogError(f"{slug}/catalog.yaml: slug {catalog.slug!r} differs from the folder")
    return catalog


@lru_cache(maxsize=1)
def catalogs() -> dict[str, Catalog]:
    """Every valid catalog whose connector is present, by slug (loaded once per process).

    An invalid catalog is logged and left out: one broken network does not stop the
    others (tests/catalog loads every network's strictly).
    """
    found: dict[str, Catalog] = {}
    for slug in networks():
        try:
            catalog = load_network_catalog(slug)
        except (CatalogError, yaml.YAMLError) as exc:
            log.error("catalog_invalid", network=slug, error=str(exc)[:2000])
            continue
        if catalog is not None:
            found[catalog.slug] = catalog
    return found


def get_catalog(slug: str) -> Catalog | None:
    return catalogs().get(slug)
