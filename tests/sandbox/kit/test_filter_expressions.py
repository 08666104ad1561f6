"""The kit's FilterExpression compiler: groups, negation, every filter type, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from metrics_connect.sandbox.kit.filter_expressions import (
    Predicate,
    compile_filter,
    filter_fields,
    numeric_test,
    value_test,
)
from metrics_connect.sandbox.kit.google import GoogleError

FACT = {"city": "Sao Paulo", "hour": "08", "region": "(not set)", "views": 12.0}


def compiled(expr: Any) -> Predicate:
    def leaf(spec: dict[str, Any]) -> Predicate:
        test = value_test(spec, spec["fieldName"])
        assert test is not None
        return test

    return compile_filter(expr, leaf, "empty")


def keeps(expr: Any) -> bool:
    return compiled(expr)(FACT.__getitem__)


def on(field: str, **spec: Any) -> dict[str, Any]:
    return {"filter": {"fieldName": field, **spec}}


def test_string_filters_match_as_asked() -> None:
    def string(match: str, value: str, **more: Any) -> bool:
        return keeps(on("city", stringFilter={"matchType": match, "value": value, **more}))

    assert string("EXACT", "sao paulo")
    assert not string("EXACT", "sao paulo", caseSensitive=True)
    assert string("MATCH_TYPE_UNSPECIFIED", "SAO PAULO")
    assert string("BEGINS_WITH", "sao") and string("ENDS_WITH", "PAULO")
    assert string("CONTAINS", "o p") and not string("CONTAINS", "rio")
    assert string("FULL_REGEXP", "s.*o") and not string("FULL_REGEXP", "s.*o", caseSensitive=True)
    assert string("PARTIAL_REGEXP", "pau") and not string("FULL_REGEXP", "pau")


def test_lists_empties_and_numbers() -> None:
    assert keeps(on("city", inListFilter={"values": ["sao paulo", "Rio"]}))
    assert not keeps(on("city", inListFilter={"values": ["sao paulo"], "caseSensitive": True}))
    assert keeps(on("region", emptyFilter={})) and not keeps(on("city", emptyFilter={}))
    eight = {"int64Value": "8"}
    assert keeps(on("hour", numericFilter={"operation": "EQUAL", "value": eight}))
    assert keeps(on("hour", numericFilter={"operation": "LESS_THAN", "value": {"doubleValue": 9}}))
    assert not keeps(on("hour", numericFilter={"operation": "GREATER_THAN", "value": eight}))
    between = {"fromValue": {"int64Value": "8"}, "toValue": {"doubleValue": 8.5}}
    assert keeps(on("hour", betweenFilter=between))
    # A value that is not a number never matches a numeric filter.
    assert not keeps(on("city", numericFilter={"operation": "EQUAL", "value": eight}))
    assert value_test({"fieldName": "city"}, "city") is None
    assert numeric_test({"stringFilter": {}}, "city") is None
    views = numeric_test(
        {"numericFilter": {"operation": "GREATER_THAN_OR_EQUAL", "value": {"doubleValue": 12}}},
        "views",
    )
    assert views is not None and views(FACT.__getitem__)


def test_groups_and_negation_combine_and_fields_are_listed() -> None:
    brazil = on("city", stringFilter={"value": "Sao Paulo"})
    lisbon = on("city", stringFilter={"value": "Lisbon"})
    late = on("hour", numericFilter={"operation": "GREATER_THAN", "value": {"int64Value": "20"}})
    assert keeps({"orGroup": {"expressions": [lisbon, brazil]}})
    assert not keeps({"andGroup": {"expressions": [brazil, late]}})
    assert keeps({"andGroup": {"expressions": [brazil, {"notExpression": late}]}})
    expr = {"andGroup": {"expressions": [brazil, {"notExpression": late}]}}
    assert filter_fields(expr) == {"city", "hour"}
    assert filter_fields(None) == set()


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ({}, "empty"),
        (
            on("city", stringFilter={"matchType": "FULL_REGEXP", "value": "("}),
            "Invalid regular expression: (",
        ),
        (on("city", stringFilter={"matchType": "NOPE"}), "Unknown stringFilter.matchType: NOPE."),
        (on("city", stringFilter={"value": 3}), "stringFilter.value must be a string."),
        (
            on("hour", numericFilter={"operation": "NOPE", "value": {"int64Value": "1"}}),
            "Unknown numericFilter.operation: NOPE.",
        ),
        (
            on("hour", numericFilter={"operation": "EQUAL", "value": {}}),
            "A NumericValue needs int64Value or doubleValue.",
        ),
        (
            on("hour", betweenFilter={"fromValue": 1}),
            "A NumericValue must be an object with int64Value or doubleValue.",
        ),
    ],
)
def test_bad_filters_are_refused(expr: Any, message: str) -> None:
    with pytest.raises(GoogleError) as refused:
        compiled(expr)
    assert refused.value.message == message
