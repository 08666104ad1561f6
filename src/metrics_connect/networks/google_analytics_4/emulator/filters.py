"""FilterExpressions over the property's fields (the sandbox kit's filter_expressions):
dimension filters test a fact's dimension values before aggregation, metric filters a
row's metric values after it (numericFilter and betweenFilter only)."""

from __future__ import annotations

from typing import Any

from metrics_connect.networks.google_analytics_4.emulator.schema import (
    DIMENSIONS,
    METRICS,
    SCHEMA_URL,
)
from metrics_connect.sandbox.kit.filter_expressions import (
    Predicate,
    compile_filter,
    numeric_test,
    value_test,
)
from metrics_connect.sandbox.kit.google import GoogleError


def _dimension_leaf(spec: dict[str, Any]) -> Predicate:
    name = spec.get("fieldName")
    if name in METRICS:
        raise GoogleError(f"Metric {name} cannot be used in dimensionFilter; use metricFilter.")
    if name not in DIMENSIONS:
        raise GoogleError(
            f"Field {name} is not a valid dimension. For a list of valid dimensions "
            f"and metrics, see {SCHEMA_URL}"
        )
    test = value_test(spec, str(name))
    if test is None:
        raise GoogleError(f"The filter on {name} has no filter type.")
    return test


def compile_dimension_filter(expr: Any) -> Predicate:
    return compile_filter(
        expr,
        _dimension_leaf,
        "A FilterExpression must have exactly one of andGroup, orGroup, notExpression or "
        "filter.",
    )


def compile_metric_filter(expr: Any, allowed: set[str]) -> Predicate:
    def leaf(spec: dict[str, Any]) -> Predicate:
        name = spec.get("fieldName")
        if name not in allowed:
            raise GoogleError(f"metricFilter field {name} must be a metric of the request.")
        test = numeric_test(spec, str(name))
        if test is None:
            raise GoogleError("metricFilter supports numericFilter and betweenFilter.")
        return test

    return compile_filter(expr, leaf, "A FilterExpression must not be empty.")
