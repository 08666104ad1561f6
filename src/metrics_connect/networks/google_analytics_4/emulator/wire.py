"""The Data API's JSON request messages, read as Google's REST front end reads them.

What the official clients send over REST (`google-analytics-data` with
transport="rest") is proto JSON: field names in lowerCamelCase or their proto
snake_case, enums as names or, with `$alt=json;enum-encoding=int`, as numbers. An
unknown field or enum value is refused with INVALID_ARGUMENT and Google's wording, a
`google.rpc.BadRequest` in the error's details. `read` returns the message with
lowerCamelCase names and enum names, which the report code reads.
"""

from __future__ import annotations

import re
from typing import Any

from metrics_connect.networks.google_analytics_4.emulator.report import ReportError

# Per message: JSON name -> type (a message, "enum:<Enum>", or a scalar), "[]" = repeated.
MESSAGES: dict[str, dict[str, str]] = {
    "RunReportRequest": {
        "property": "string",
        "dimensions": "Dimension[]",
        "metrics": "Metric[]",
        "dateRanges": "DateRange[]",
        "dimensionFilter": "FilterExpression",
        "metricFilter": "FilterExpression",
        "offset": "int64",
        "limit": "int64",
        "metricAggregations": "enum:MetricAggregation[]",
        "orderBys": "OrderBy[]",
        "currencyCode": "string",
        "cohortSpec": "CohortSpec",
        "keepEmptyRows": "bool",
        "returnPropertyQuota": "bool",
        "comparisons": "Comparison[]",
    },
    "BatchRunReportsRequest": {"property": "string", "requests": "RunReportRequest[]"},
    "CheckCompatibilityRequest": {
        "property": "string",
        "dimensions": "Dimension[]",
        "metrics": "Metric[]",
        "dimensionFilter": "FilterExpression",
        "metricFilter": "FilterExpression",
        "compatibilityFilter": "enum:Compatibility",
    },
    "RunRealtimeReportRequest": {
        "property": "string",
        "dimensions": "Dimension[]",
        "metrics": "Metric[]",
        "dimensionFilter": "FilterExpression",
        "metricFilter": "FilterExpression",
        "limit": "int64",
        "metricAggregations": "enum:MetricAggregation[]",
        "orderBys": "OrderBy[]",
        "returnPropertyQuota": "bool",
        "minuteRanges": "MinuteRange[]",
    },
    "Dimension": {"name": "string", "dimensionExpression": "DimensionExpression"},
    "DimensionExpression": {
        "lowerCase": "CaseExpression",
        "upperCase": "CaseExpression",
        "concatenate": "ConcatenateExpression",
    },
    "CaseExpression": {"dimensionName": "string"},
    "ConcatenateExpression": {"dimensionNames": "string[]", "delimiter": "string"},
    "Metric": {"name": "string", "expression": "string", "invisible": "bool"},
    "DateRange": {"startDate": "string", "endDate": "string", "name": "string"},
    "MinuteRange": {"startMinutesAgo": "int32", "endMinutesAgo": "int32", "name": "string"},
    "FilterExpression": {
        "andGroup": "FilterExpressionList",
        "orGroup": "FilterExpressionList",
        "notExpression": "FilterExpression",
        "filter": "Filter",
    },
    "FilterExpressionList": {"expressions": "FilterExpression[]"},
    "Filter": {
        "fieldName": "string",
        "stringFilter": "StringFilter",
        "inListFilter": "InListFilter",
        "numericFilter": "NumericFilter",
        "betweenFilter": "BetweenFilter",
        "emptyFilter": "EmptyFilter",
    },
    "StringFilter": {"matchType": "enum:MatchType", "value": "string", "caseSensitive": "bool"},
    "InListFilter": {"values": "string[]", "caseSensitive": "bool"},
    "NumericFilter": {"operation": "enum:Operation", "value": "NumericValue"},
    "BetweenFilter": {"fromValue": "NumericValue", "toValue": "NumericValue"},
    "EmptyFilter": {},
    "NumericValue": {"int64Value": "int64", "doubleValue": "double"},
    "OrderBy": {
        "metric": "MetricOrderBy",
        "dimension": "DimensionOrderBy",
        "pivot": "PivotOrderBy",
        "desc": "bool",
    },
    "MetricOrderBy": {"metricName": "string"},
    "DimensionOrderBy": {"dimensionName": "string", "orderType": "enum:OrderType"},
    "PivotOrderBy": {"metricName": "string", "pivotSelections": "PivotSelection[]"},
    "PivotSelection": {"dimensionName": "string", "dimensionValue": "string"},
    "CohortSpec": {
        "cohorts": "Cohort[]",
        "cohortsRange": "CohortsRange",
        "cohortReportSettings": "CohortReportSettings",
    },
    "Cohort": {"name": "string", "dimension": "string", "dateRange": "DateRange"},
    "CohortsRange": {
        "granularity": "enum:Granularity",
        "startOffset": "int32",
        "endOffset": "int32",
    },
    "CohortReportSettings": {"accumulate": "bool"},
    "Comparison": {
        "name": "string",
        "dimensionFilter": "FilterExpression",
        "comparison": "string",
    },
}

# Enum values by number (google.analytics.data.v1beta).
ENUMS: dict[str, dict[int, str]] = {
    "MetricAggregation": {
        0: "METRIC_AGGREGATION_UNSPECIFIED",
        1: "TOTAL",
        4: "COUNT",
        5: "MINIMUM",
        6: "MAXIMUM",
    },
    "OrderType": {
        0: "ORDER_TYPE_UNSPECIFIED",
        1: "ALPHANUMERIC",
        2: "CASE_INSENSITIVE_ALPHANUMERIC",
        3: "NUMERIC",
    },
    "MatchType": {
        0: "MATCH_TYPE_UNSPECIFIED",
        1: "EXACT",
        2: "BEGINS_WITH",
        3: "ENDS_WITH",
        4: "CONTAINS",
        5: "FULL_REGEXP",
        6: "PARTIAL_REGEXP",
    },
    "Operation": {
        0: "OPERATION_UNSPECIFIED",
        1: "EQUAL",
        2: "LESS_THAN",
        3: "LESS_THAN_OR_EQUAL",
        4: "GREATER_THAN",
        5: "GREATER_THAN_OR_EQUAL",
    },
    "Granularity": {0: "GRANULARITY_UNSPECIFIED", 1: "DAILY", 2: "WEEKLY", 3: "MONTHLY"},
    "Compatibility": {0: "COMPATIBILITY_UNSPECIFIED", 1: "COMPATIBLE", 2: "INCOMPATIBLE"},
    "MetricType": {
        0: "METRIC_TYPE_UNSPECIFIED",
        1: "TYPE_INTEGER",
        2: "TYPE_FLOAT",
        4: "TYPE_SECONDS",
        5: "TYPE_MILLISECONDS",
        6: "TYPE_MINUTES",
        7: "TYPE_HOURS",
        8: "TYPE_STANDARD",
        9: "TYPE_CURRENCY",
        10: "TYPE_FEET",
        11: "TYPE_MILES",
        12: "TYPE_METERS",
        13: "TYPE_KILOMETERS",
    },
}
ENUM_PACKAGE = "type.googleapis.com/google.analytics.data.v1beta"
_ENUM_OWNER = {
    "MetricAggregation": "MetricAggregation",
    "OrderType": "OrderBy.DimensionOrderBy.OrderType",
    "MatchType": "Filter.StringFilter.MatchType",
    "Operation": "Filter.NumericFilter.Operation",
    "Granularity": "CohortsRange.Granularity",
    "Compatibility": "Compatibility",
}


class InvalidPayload(ReportError):
    """An unknown field or enum value: Google's message, with a BadRequest in details."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field

    def body(self) -> dict[str, Any]:
        body = super().body()
        violation = {"description": self.message}
        if self.field:
            violation = {"field": self.field, **violation}
        body["error"]["details"] = [
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}
        ]
        return body


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def read(body: Any, message: str) -> dict[str, Any]:
    """The request as lowerCamelCase JSON with enum names, or InvalidPayload."""
    if not isinstance(body, dict):
        raise InvalidPayload(
            f'Invalid JSON payload received. Expected an object for "{message}".', None
        )
    read_message: dict[str, Any] = _message(body, message, "")
    return read_message


def _message(value: dict[str, Any], message: str, path: str) -> dict[str, Any]:
    fields = MESSAGES[message]
    out: dict[str, Any] = {}
    for raw_name, raw in value.items():
        name = _camel(raw_name)
        kind = fields.get(name)
        if kind is None:
            where = f" at '{path}'" if path else ""
            raise InvalidPayload(
                f'Invalid JSON payload received. Unknown name "{raw_name}"{where}: '
                "Cannot find field.",
                path or None,
            )
        here = f"{path}.{_snake(name)}" if path else _snake(name)
        out[name] = _value(raw, kind, here)
    return out


def _value(raw: Any, kind: str, path: str) -> Any:
    if kind.endswith("[]"):
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise InvalidPayload(f"Invalid value at '{path}', expected a list.", path)
        return [_value(item, kind[:-2], f"{path}[{i}]") for i, item in enumerate(raw)]
    if kind.startswith("enum:"):
        return _enum(raw, kind[5:], path)
    if kind in MESSAGES:
        if not isinstance(raw, dict):
            raise InvalidPayload(
                f"Invalid JSON payload received. Expected an object at '{path}'.", path
            )
        return _message(raw, kind, path)
    return raw


def _enum(raw: Any, enum: str, path: str) -> str:
    values = ENUMS[enum]
    if isinstance(raw, bool):
        raw = str(raw).lower()
    if isinstance(raw, int) and raw in values:
        return values[raw]
    if isinstance(raw, str) and raw in values.values():
        return raw
    owner = f"{ENUM_PACKAGE}.{_ENUM_OWNER.get(enum, enum)}"
    shown = f'"{raw}"' if isinstance(raw, str) else str(raw)
    raise InvalidPayload(f"Invalid value at '{path}' ({owner}), {shown}", path)


def wants_int_enums(alt: str | None) -> bool:
    """`$alt=json;enum-encoding=int`: the client reads (and sends) enums as numbers."""
    return alt is not None and "enum-encoding=int" in alt.replace(" ", "").split(";")


def enum_number(enum: str, name: str) -> int:
    for number, value in ENUMS[enum].items():
        if value == name:
            return number
    return 0
