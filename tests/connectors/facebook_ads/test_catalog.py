"""The Meta Ads catalog covers the reference: every metric and dimension of setup.json,
every predefined widget of metrics.json, and it loads against the connector's datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from metrics_connect.catalog.loader import get_catalog, parse_catalog
from metrics_connect.connectors.base import DatasetSpec

REFERENCE = Path("/work/shared/reference/reportei-connect/facebook_ads")


def reference(name: str) -> Any:
    path = REFERENCE / name
    if not path.exists():
        pytest.skip("the shared reference payloads are not on this machine")
    return json.loads(path.read_text())


def test_every_reference_metric_dimension_and_widget_is_in_the_catalog() -> None:
    catalog = get_catalog("facebook_ads")
    assert catalog is not None
    setup = reference("setup.json")
    assert set(setup["metrics"]) <= set(catalog.doc.metrics)
    assert set(setup["dimensions"]) <= set(catalog.doc.dimensions)
    widgets = reference("metrics.json")["widgets"]
    assert {w["reference_key"] for w in widgets} == set(catalog.doc.widgets)
    for widget in widgets:
        entry = catalog.doc.widgets[widget["reference_key"]]
        assert entry.component == widget["component"]
        if not entry.note:  # a noted widget is mapped on purpose; the others as written
            assert list(entry.metrics or ()) == widget["metrics"]


def test_costs_and_rates_are_ratios_of_summed_parts() -> None:
    catalog = get_catalog("facebook_ads")
    assert catalog is not None
    metrics = catalog.doc.metrics
    cpc, ctr = metrics["cpc"].ratio, metrics["ctr"].ratio
    assert cpc is not None and (cpc.numerator, cpc.denominator) == ("spend", "clicks")
    assert ctr is not None and (ctr.numerator, ctr.denominator, ctr.scale) == (
        "clicks",
        "impressions",
        100,
    )
    per_lead = metrics["spend:lead"].ratio
    assert per_lead is not None and per_lead.denominator == "actions:lead"
    reach = metrics["reach"].sources[0]
    assert (reach.dataset, reach.aggregation) == ("insights_period", "period")


def test_text_attributes_of_daily_and_period_rows_load() -> None:
    """`attribute` reads a text key the rows of any dataset carry (an ad's utm_campaign),
    not only an objects dataset's attributes."""
    daily = DatasetSpec("rows", "daily", ("spend", "utm_campaign"), breakdowns=("ad_name",))
    text = """
slug: t
name: T
dimensions: {ad: {label: Ad, kind: category, field: ad_name}}
metrics:
  utm_campaign:
    label: UTM
    unit: text
    sources: [{dataset: rows, field: utm_campaign, aggregation: attribute}]
"""
    catalog = parse_catalog(text, {"rows": daily})
    assert catalog.doc.metrics["utm_campaign"].sources[0].aggregation == "attribute"
