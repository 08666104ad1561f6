"""The GA4 catalog covers the reference: setup.json's metrics and dimensions, every widget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics_connect.catalog.loader import load_network_catalog

REFERENCE = Path("/work/shared/reference/reportei-connect/google_analytics_4")


@pytest.fixture(scope="module")
def reference() -> tuple[dict, list]:  # type: ignore[type-arg]
    if not REFERENCE.exists():
        pytest.skip("the shared reference payloads are not on this machine")
    setup = json.loads((REFERENCE / "setup.json").read_text())
    widgets = json.loads((REFERENCE / "metrics.json").read_text())["metrics"]
    return setup, widgets


def test_every_reference_metric_dimension_and_widget_is_in_the_catalog(
    reference: tuple[dict, list],  # type: ignore[type-arg]
) -> None:
    setup, widgets = reference
    catalog = load_network_catalog("google_analytics_4")
    assert catalog is not None
    doc = catalog.doc
    # setup.json lists itemName among the metrics; GA4 (and the catalog) make it a dimension.
    assert set(setup["metrics"]) - {"itemName"} <= set(doc.metrics)
    assert "itemName" in doc.dimensions
    assert set(setup["dimensions"]) <= set(doc.dimensions)
    assert {w["reference_key"] for w in widgets} == set(doc.widgets)
    for w in widgets:
        for name in w["metrics"]:
            assert name in doc.metrics, (w["reference_key"], name)
        if w.get("calculated"):
            (name,) = w["metrics"]
            assert doc.metrics[name].ratio is not None, name


def test_unique_counts_are_period_figures_and_daily_only_by_date() -> None:
    catalog = load_network_catalog("google_analytics_4")
    assert catalog is not None
    for name in ("totalUsers", "activeUsers", "totalPurchasers"):
        sources = catalog.doc.metrics[name].sources
        assert sources[0].aggregation == "period"
        assert all(s.only_with == ("date",) for s in sources if s.aggregation == "sum")
