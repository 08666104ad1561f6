"""FilterExpressions of the Data API as predicates: dimension filters (on a fact's
dimension values, before aggregation) and metric filters (on a row's metric values,
after it), with andGroup, orGroup, notExpression and every filter type."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from metrics_connect.networks.google_analytics_4.emulator.schema import (
    DIMENSIONS,
    METRICS,
    SCHEMA_URL,
)
from metrics_connect.sandbox.kit.google import GoogleError

# A filter reads a fact's dimension values, or a row's metric values, by name.
Getter = Callable[[str], Any]
Predicate = Callable[[Getter], bool]


def _string_test(spec: dict[str, Any]) -> Callable[[str], bool]:
    match_type = spec.get("matchType", "EXACT")
    value = spec.get("value", "")
    if not isinstance(value, str):
        raise GoogleError("stringFilter.value must be a string.")
    sensitive = bool(spec.get("caseSensitive", False))
    flags = 0 if sensitive else re.IGNORECASE
    norm: Callable[[str], str] = (lambda x: x) if sensitive else str.lower
    target = norm(value)
    if match_type in ("EXACT", "MATCH_TYPE_UNSPECIFIED"):
        return lambda x: norm(x) == target
    if match_type == "BEGINS_WITH":
        return lambda x: norm(x).startswith(target)
    if match_type == "ENDS_WITH":
        return lambda x: norm(x).endswith(target)
    if match_type == "CONTAINS":
        return lambda x: target in norm(x)
    if match_type in ("FULL_REGEXP", "PARTIAL_REGEXP"):
        try:
            pattern = re.compile(value, flags)
        except re.error:
            raise GoogleError(f"Invalid regular expression: {value}") from None
        if match_type == "FULL_REGEXP":
            return lambda x: pattern.fullmatch(x) is not None
        return lambda x: pattern.search(x) is not None
    raise GoogleError(f"Unknown stringFilter.matchType: {match_type}.")


def _number(spec: Any) -> float:
    if not isinstance(spec, dict):
        raise GoogleError("A NumericValue must be an object with int64Value or doubleValue.")
    raw = spec.get("int64Value", spec.get("doubleValue"))
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise GoogleError("A NumericValue needs int64Value or doubleValue.") from None


def _numeric_test(spec: dict[str, Any]) -> Callable[[float], bool]:
    operation = spec.get("operation")
    target = _number(spec.get("value"))
    ops: dict[str, Callable[[float], bool]] = {
        "EQUAL": lambda x: x == target,
        "LESS_THAN": lambda x: x < target,
        "LESS_THAN_OR_EQUAL": lambda x: x <= target,
        "GREATER_THAN": lambda x: x > target,
        "GREATER_THAN_OR_EQUAL": lambda x: x >= target,
    }
    if operation not in ops:
        raise GoogleError(f"Unknown numericFilter.operation: {operation}.")
    return ops[operation]


def to_float(value: str | float) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def filter_fields(expr: Any) -> set[str]:
    """Every fieldName a FilterExpression mentions."""
    if not expr:
        return set()
    subs = [expr.get("notExpression")]
    for group in ("andGroup", "orGroup"):
        subs += expr.get(group, {}).get("expressions", [])
    name = expr.get("filter", {}).get("fieldName")
    return set().union({name} if isinstance(name, str) else set(), *map(filter_fields, subs))


def _compile(expr: Any, leaf: Callable[[dict[str, Any]], Predicate], empty: str) -> Predicate:
    """A FilterExpression as a predicate; `leaf` compiles its filters."""
    if not expr:
        raise GoogleError(empty)
    for group, combine in (("andGroup", all), ("orGroup", any)):
        if group in expr:
            parts = [_compile(e, leaf, empty) for e in expr[group].get("expressions", [])]
            return lambda get: combine(p(get) for p in parts)
    if "notExpression" in expr:
        inner = _compile(expr["notExpression"], leaf, empty)
        return lambda get: not inner(get)
    return leaf(expr["filter"])


def _numeric_leaf(spec: dict[str, Any], name: str) -> Predicate | None:
    """A numericFilter or betweenFilter on a number (or a dimension value read as one)."""
    if "numericFilter" in spec:
        test = _numeric_test(spec["numericFilter"])
    elif "betweenFilter" in spec:
        low = _number(spec["betweenFilter"].get("fromValue"))
        high = _number(spec["betweenFilter"].get("toValue"))
        test = lambda x: low <= x <= high  # noqa: E731
    else:
        return None

    def check(get: Getter) -> bool:
        value = to_float(get(name))
        return value is not None and test(value)

    return check


def _dimension_leaf(spec: dict[str, Any]) -> Predicate:
    name = spec.get("fieldName")
    if name in METRICS:
        raise GoogleError(f"Metric {name} cannot be used in dimensionFilter; use metricFilter.")
    if name not in DIMENSIONS:
        raise GoogleError(
            f"Field {name} is not a valid dimension. For a list of valid dimensions "
            f"and metrics, see {SCHEMA_URL}"
        )
    field_name = str(name)
    if "stringFilter" in spec:
        test = _string_test(spec["stringFilter"])
        return lambda get: test(get(field_name))
    if "inListFilter" in spec:
        values = spec["inListFilter"].get("values") or []
        if spec["inListFilter"].get("caseSensitive", False):
            members = set(values)
            return lambda get: get(field_name) in members
        lowered = {str(v).lower() for v in values}
        return lambda get: get(field_name).lower() in lowered
    if "emptyFilter" in spec:
        return lambda get: get(field_name) in ("", "(not set)")
    numeric = _numeric_leaf(spec, field_name)
    if numeric is None:
        raise GoogleError(f"The filter on {field_name} has no filter type.")
    return numeric


def compile_dimension_filter(expr: Any) -> Predicate:
    return _compile(
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
        numeric = _numeric_leaf(spec, str(name))
        if numeric is None:
            raise GoogleError("metricFilter supports numericFilter and betweenFilter.")
        return numeric

    return _compile(expr, leaf, "A FilterExpression must not be empty.")
