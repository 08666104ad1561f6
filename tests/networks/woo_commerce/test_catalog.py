"""The catalog names every metric and dimension of the reference's setup.json and
resolves every predefined widget's metrics (by name or through `widgets:`)."""

from __future__ import annotations

import json

from metrics_connect.catalog.loader import get_catalog
from tests.networks.widgets import REFERENCE, reference_widgets


def test_every_reference_metric_and_dimension_is_in_the_catalog() -> None:
    setup = json.loads((REFERENCE / "woo_commerce" / "setup.json").read_text())
    catalog = get_catalog("woo_commerce")
    assert catalog is not None
    assert set(setup["metrics"]) - set(catalog.doc.metrics) == set()
    assert set(setup["dimensions"]) - set(catalog.doc.dimensions) == set()
    for widget in reference_widgets("woo_commerce"):
        assert set(widget["metrics"]) <= set(catalog.doc.metrics), widget["reference_key"]
        assert set(widget["dimensions"]) <= set(catalog.doc.dimensions), widget["reference_key"]
