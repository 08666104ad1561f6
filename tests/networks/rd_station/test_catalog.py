"""The RD Station catalogs name every metric and dimension of the reference's setup.json
that their APIs serve, and every predefined widget resolves (by name or `widgets:`)."""

from __future__ import annotations

import json

import pytest

from metrics_connect.catalog.loader import get_catalog
from tests.networks.widgets import REFERENCE, reference_widgets

# Contact attributes, not in RD Station Marketing's analytics (docs/networks/rd_station.md).
NOT_SERVED = {"fitscore", "interest", "tags", "rdstation_last_conversion_origin"}


@pytest.mark.parametrize(("slug", "missing"), [("rd_station", NOT_SERVED), ("rd_crm", set())])
def test_every_reference_metric_and_dimension_is_in_the_catalog(
    slug: str, missing: set[str]
) -> None:
    path = REFERENCE / slug / "setup.json"
    if not path.exists():
        pytest.skip("the shared reference payloads are not on this machine")
    setup = json.loads(path.read_text())
    catalog = get_catalog(slug)
    assert catalog is not None
    assert set(setup["metrics"]) - set(catalog.doc.metrics) == missing
    assert set(setup["dimensions"]) - set(catalog.doc.dimensions) == set()
    for widget in reference_widgets(slug):
        if widget["reference_key"] in catalog.doc.widgets:
            continue
        assert set(widget["metrics"]) <= set(catalog.doc.metrics) | missing, widget
    served = {w["reference_key"] for w in reference_widgets(slug)} - set(catalog.doc.widgets)
    assert {key.partition(":")[2] for key in served} <= {
        "fitscore",
        "interest",
        "tags",
        "last_conversion_origin",
    }
