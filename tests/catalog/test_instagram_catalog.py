"""The Instagram catalog covers the reference and fits the connector's datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics_connect.catalog.loader import (
    AVERAGE_SUFFIX,
    CatalogError,
    catalogs,
    load_network_catalog,
    parse_catalog,
)
from metrics_connect.engine.request import WidgetIn
from metrics_connect.engine.resolve import resolve_widget
from metrics_connect.networks.instagram_business.connector.hooks import InstagramConnector
from metrics_connect.networks.registry import networks

DATASETS = InstagramConnector.datasets

REFERENCE = Path("/work/shared/reference/reportei-connect/instagram_business")
FALLBACK = Path(__file__).parent / "reference"


def reference(name: str) -> dict:
    for folder in (REFERENCE, FALLBACK):
        path = folder / name
        if path.exists():
            return json.loads(path.read_text())
    pytest.skip("the Reportei reference payloads are not available here")


def catalog():
    return catalogs()["instagram_business"]


def test_catalog_loads_against_the_connector_datasets() -> None:
    loaded = catalog()
    assert loaded.datasets == DATASETS
    used = {s.dataset for m in loaded.doc.metrics.values() for s in m.sources}
    assert used == set(DATASETS)


def test_every_reference_metric_and_dimension_is_in_the_catalog() -> None:
    setup = reference("setup.json")
    doc = catalog().doc
    for name in setup["metrics"]:
        assert name.removesuffix(AVERAGE_SUFFIX) in doc.metrics, name
    for name in setup["dimensions"]:
        assert name in doc.dimensions, name


def test_every_reference_widget_is_predefined_and_resolves() -> None:
    widgets = reference("metrics.json")["metrics"]
    loaded = catalog()
    assert {w["reference_key"] for w in widgets} == set(loaded.doc.widgets)
    for i, raw in enumerate(widgets):
        resolved = resolve_widget(loaded, WidgetIn.model_validate({"id": str(i), **raw}))
        assert resolved.error is None, (raw["reference_key"], resolved.error)


def test_widgets_on_deprecated_metrics_say_so() -> None:
    doc = catalog().doc
    deprecated_metrics = {n for n, m in doc.metrics.items() if m.deprecated}
    assert {"impressions", "plays", "video_views"} <= deprecated_metrics
    for key, widget in doc.widgets.items():
        names = {m.removesuffix(AVERAGE_SUFFIX) for m in widget.metrics or ()}
        if names & {"impressions", "plays"}:
            assert widget.deprecated, key


BASE = """
slug: t
name: T
dimensions:
  date: {label: Date, kind: date}
metrics:
  reach: {label: Reach, sources: [{dataset: account_daily, field: reach, aggregation: sum}]}
"""


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            "  bad: {label: B, sources: [{dataset: nope, field: x, aggregation: sum}]}",
            "unknown dataset",
        ),
        (
            "  bad: {label: B, sources: [{dataset: account_daily, field: x, aggregation: sum}]}",
            "no field",
        ),
        ("  bad: {label: B, ratio: {numerator: reach, denominator: ghost}}", "unknown part"),
        ("  bad: {label: B, sum_of: [bad]}", "itself"),
        (
            "  bad: {label: B, sources: [{dataset: account_daily, field: reach,"
            " aggregation: period}]}",
            "period",
        ),
        ("  bad: {label: B}", "exactly one"),
    ],
)
def test_invalid_catalogs_are_refused(extra: str, problem: str) -> None:
    with pytest.raises(CatalogError, match=problem):
        parse_catalog(BASE + extra + "\n", DATASETS)


def test_every_catalog_file_is_valid() -> None:
    slugs = sorted(networks())
    assert "instagram_business" in slugs
    for slug in slugs:
        loaded = load_network_catalog(slug)  # raises on any problem
        assert loaded is not None
        assert loaded.slug in catalogs()
