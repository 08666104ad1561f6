"""Pushdown filters (`Filter(field, operator, value)`) as Data API FilterExpressions.

Matching ignores case, as the engine's own filters on fetched rows do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from metrics_connect.connectors.base import Filter, UpstreamError

_STRING_MATCH = {
    "EQUAL": "EXACT",
    "EQUALS": "EXACT",
    "CONTAIN": "CONTAINS",
    "CONTAINS": "CONTAINS",
    "BEGINS_WITH": "BEGINS_WITH",
    "STARTS_WITH": "BEGINS_WITH",
    "ENDS_WITH": "ENDS_WITH",
    "REGEX": "FULL_REGEXP",
    "REGEXP": "FULL_REGEXP",
}
_NEGATED = {
    "NOT_EQUAL": "EQUAL",
    "NOT_EQUALS": "EQUAL",
    "NOT_IN": "IN",
    "NOT_CONTAIN": "CONTAIN",
    "NOT_CONTAINS": "CONTAIN",
}


def _values(value: Any) -> list[str]:
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return [str(value)]


def one_filter(f: Filter) -> dict[str, Any]:
    operator = f.operator.upper()
    if operator in _NEGATED:
        return {"notExpression": one_filter(Filter(f.field, _NEGATED[operator], f.value))}
    if operator == "IN":
        return {
            "filter": {
                "fieldName": f.field,
                "inListFilter": {"values": _values(f.value), "caseSensitive": False},
            }
        }
    if operator in _STRING_MATCH:
        values = _values(f.value)
        if len(values) != 1:
            raise UpstreamError(f"filter {f.field} {operator} takes one value")
        return {
            "filter": {
                "fieldName": f.field,
                "stringFilter": {
                    "matchType": _STRING_MATCH[operator],
                    "value": values[0],
                    "caseSensitive": False,
                },
            }
        }
    raise UpstreamError(f"filter operator {f.operator} is not supported by Google Analytics 4")


def filter_expression(filters: Iterable[Filter]) -> dict[str, Any]:
    expressions = [one_filter(f) for f in filters]
    if len(expressions) == 1:
        return expressions[0]
    return {"andGroup": {"expressions": expressions}}
