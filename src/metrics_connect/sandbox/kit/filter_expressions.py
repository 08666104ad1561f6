"""Google's FilterExpression as predicates: andGroup, orGroup, notExpression and a
filter on one field with stringFilter (EXACT, BEGINS_WITH, ENDS_WITH, CONTAINS,
FULL_REGEXP, PARTIAL_REGEXP; case-insensitive unless caseSensitive), inListFilter,
emptyFilter, numericFilter (EQUAL, LESS_THAN[_OR_EQUAL], GREATER_THAN[_OR_EQUAL]) and
betweenFilter, their NumericValues as int64Value or doubleValue.

A predicate reads the values it tests through a getter by field name (a fact's
dimension values before aggregation, a row's metric values after it). Which fields a
filter may name is the emulator's: `compile_filter` takes the leaf compiler that checks
a filter's field and builds its test from `value_test` or `numeric_test`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from metrics_connect.sandbox.kit.google import GoogleError

Getter = Callable[[str], Any]
Predicate = Callable[[Getter], bool]


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


def compile_filter(expr: Any, leaf: Callable[[dict[str, Any]], Predicate], empty: str) -> Predicate:
    """A FilterExpression as a predicate; `leaf` compiles its filters, `empty` is the
    refusal of an expression without any."""
    if not expr:
        raise GoogleError(empty)
    for group, combine in (("andGroup", all), ("orGroup", any)):
        if group in expr:
            parts = [compile_filter(e, leaf, empty) for e in expr[group].get("expressions", [])]
            return lambda get: combine(p(get) for p in parts)
    if "notExpression" in expr:
        inner = compile_filter(expr["notExpression"], leaf, empty)
        return lambda get: not inner(get)
    return leaf(expr["filter"])


def _string_test(spec: dict[str, Any]) -> Callable[[str], bool]:
    match_type = spec.get("matchType", "EXACT")
    value = spec.get("value", "")
    if not isinstance(value, str):
        raise GoogleError("stringFilter.value must be a string.")
    sensitive = bool(spec.get("caseSensitive", False))
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
            pattern = re.compile(value, 0 if sensitive else re.IGNORECASE)
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


_OPERATIONS: dict[str, Callable[[float, float], bool]] = {
    "EQUAL": lambda x, target: x == target,
    "LESS_THAN": lambda x, target: x < target,
    "LESS_THAN_OR_EQUAL": lambda x, target: x <= target,
    "GREATER_THAN": lambda x, target: x > target,
    "GREATER_THAN_OR_EQUAL": lambda x, target: x >= target,
}


def numeric_test(spec: dict[str, Any], name: str) -> Predicate | None:
    """A numericFilter or betweenFilter on field `name`, a number or a value read as
    one (a value that is not a number never matches); None for other filter types."""
    if "numericFilter" in spec:
        operation = spec["numericFilter"].get("operation")
        target = _number(spec["numericFilter"].get("value"))
        if operation not in _OPERATIONS:
            raise GoogleError(f"Unknown numericFilter.operation: {operation}.")
        compare = _OPERATIONS[operation]
        test: Callable[[float], bool] = lambda x: compare(x, target)  # noqa: E731
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


def value_test(spec: dict[str, Any], name: str) -> Predicate | None:
    """A filter of any type on the text values of field `name` (stringFilter,
    inListFilter, emptyFilter: empty or "(not set)"; numericFilter and betweenFilter
    read the text as a number); None when the filter has no type."""
    if "stringFilter" in spec:
        test = _string_test(spec["stringFilter"])
        return lambda get: test(get(name))
    if "inListFilter" in spec:
        values = spec["inListFilter"].get("values") or []
        if spec["inListFilter"].get("caseSensitive", False):
            members = set(values)
            return lambda get: get(name) in members
        lowered = {str(v).lower() for v in values}
        return lambda get: get(name).lower() in lowered
    if "emptyFilter" in spec:
        return lambda get: get(name) in ("", "(not set)")
    return numeric_test(spec, name)
