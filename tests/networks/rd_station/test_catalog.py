"""The RD Station catalogs name every metric and dimension of the reference's setup.json,
and every predefined widget of its metrics.json is declared (by name)."""

from __future__ import annotations

import json

import pytest

from metrics_connect.catalog.loader import get_catalog
from tests.networks.widgets import REFERENCE, reference_widgets


@pytest.mark.parametrize("slug", ["rd_station", "rd_crm"])
def test_every_reference_metric_and_dimension_is_in_the_catalog(slug: str) -> None:
    path = REFERENCE / slug / "setup.json"
    if not path.exists():
        pytest.skip("the shared reference payloads are not on this machine")
    setup = json.loads(path.read_text())
    catalog = get_catalog(slug)
    assert catalog is not None
    assert set(setup["metrics"]) - set(catalog.doc.metrics) == set()
    assert set(setup["dimensions"]) - set(catalog.doc.dimensions) == set()
    for widget in reference_widgets(slug):
        if widget["reference_key"] in catalog.doc.widgets:
            continue
        assert set(widget["metrics"]) <= set(catalog.doc.metrics), widget


def test_every_rd_station_widget_is_declared() -> None:
    catalog = get_catalog("rd_station")
    assert catalog is not None
    keys = {w["reference_key"] for w in reference_widgets("rd_station")}
    contacts = {
        "rdstation:fitscore",
        "rdstation:interest",
        "rdstation:tags",
        "rdstation:last_conversion_identifiers",
        "rdstation:last_conversion_origin",
    }
    assert contacts <= keys
    assert contacts <= set(catalog.doc.widgets)
