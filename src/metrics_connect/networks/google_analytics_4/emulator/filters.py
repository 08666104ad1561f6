"""FilterExpressions over the property's fields (the sandbox kit's filter_expressions):
dimension filters test a fact's dimension values before aggregation, metric filters a
row's metric values after it (numericFilter and betweenFilter only)."""

from __future__ import annotations

from typing import Any

from metrics_connect.networks.google_analytics_4.emulator.schema import (
    DIMENSIONS,
    METRICS,
    REFUSALS,
    refused,
)
from metrics_connect.sandbox.kit.filter_expressions import (
    Predicate,
    compile_filter,
    numeric_test,
    value_test,
)


def _dimension_leaf(spec: dict[str, Any]) -> Predicate:
    name = spec.get("fieldName")
    if name in METRICS:
        raise refused("metric_in_dimension_filter", name=name)
    if name not in DIMENSIONS:
        raise refused("unknown_field", name=name, kind="dimension")
    test = value_test(spec, str(name))
    if test is None:
        raise refused("no_filter_type", name=name)
    return test


def compile_dimension_filter(expr: Any) -> Predicate:
    return compile_filter(expr, _dimension_leaf, REFUSALS["empty_dimension_filter"])


def compile_metric_filter(expr: Any, allowed: set[str]) -> Predicate:
    def leaf(spec: dict[str, Any]) -> Predicate:
        name = spec.get("fieldName")
        if name not in allowed:
            raise refused("metric_filter_field", name=name)
        test = numeric_test(spec, str(name))
        if test is None:
            raise refused("metric_filter_type")
        return test

    return compile_filter(expr, leaf, REFUSALS["empty_metric_filter"])
