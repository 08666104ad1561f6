"""checkCompatibility: which dimensions and metrics could be added to a report.

As the Data API answers it: every dimension and metric of the property, each with its
metadata and COMPATIBLE or INCOMPATIBLE with the request's dimensions, metrics and
filters (a metric with the request's dimensions; a dimension with its metrics), kept to
one kind when `compatibilityFilter` names it. Nothing is charged to the property quota.
"""

from __future__ import annotations

from typing import Any

from metrics_connect.networks.google_analytics_4.emulator.report import names_of
from metrics_connect.networks.google_analytics_4.emulator.schema import (
    DIMENSIONS,
    METRICS,
    check_compatibility,
    refused,
)
from metrics_connect.sandbox.kit.filter_expressions import filter_fields
from metrics_connect.sandbox.kit.google import GoogleError


def dimension_metadata(name: str) -> dict[str, Any]:
    d = DIMENSIONS[name]
    return {"apiName": d.name, "uiName": d.ui_name, "category": d.scope}


def metric_metadata(name: str) -> dict[str, Any]:
    m = METRICS[name]
    return {"apiName": m.name, "uiName": m.ui_name, "type": m.type}


def metadata(property_id: str) -> dict[str, Any]:
    return {
        "name": f"properties/{property_id}/metadata",
        "dimensions": [dimension_metadata(d) for d in DIMENSIONS],
        "metrics": [metric_metadata(m) for m in METRICS],
    }


def _compatible(dims: set[str], metrics: list[str]) -> bool:
    try:
        check_compatibility(dims, metrics)
    except GoogleError:
        return False
    return True


def check(body: dict[str, Any]) -> dict[str, Any]:
    dims = set(names_of(body.get("dimensions"), "dimensions", DIMENSIONS))
    dims |= filter_fields(body.get("dimensionFilter")) & set(DIMENSIONS)
    metrics = names_of(body.get("metrics"), "metrics", METRICS)
    metrics += [m for m in filter_fields(body.get("metricFilter")) if m in METRICS]
    wanted = body.get("compatibilityFilter", "COMPATIBILITY_UNSPECIFIED")
    if wanted not in ("COMPATIBILITY_UNSPECIFIED", "COMPATIBLE", "INCOMPATIBLE"):
        raise refused("compatibility_filter", name=wanted)

    def verdict(ok: bool) -> str:
        return "COMPATIBLE" if ok else "INCOMPATIBLE"

    def kept(value: str) -> bool:
        return wanted == "COMPATIBILITY_UNSPECIFIED" or value == wanted

    dimension_rows = [
        {"dimensionMetadata": dimension_metadata(name), "compatibility": value}
        for name in DIMENSIONS
        if kept(value := verdict(_compatible(dims | {name}, metrics)))
    ]
    metric_rows = [
        {"metricMetadata": metric_metadata(name), "compatibility": value}
        for name in METRICS
        if kept(value := verdict(_compatible(dims, [name])))
    ]
    return {"dimensionCompatibilities": dimension_rows, "metricCompatibilities": metric_rows}
