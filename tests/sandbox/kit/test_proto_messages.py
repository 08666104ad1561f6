"""The kit's proto JSON request reader: names in either case, enums by name or number,
Google's refusals with a BadRequest, and answers' enums as numbers on request."""

from __future__ import annotations

import pytest

from metrics_connect.sandbox.kit.google import GoogleError
from metrics_connect.sandbox.kit.proto_messages import (
    InvalidPayload,
    ProtoMessages,
    wants_int_enums,
)

PROTO = ProtoMessages(
    package="google.example.v1",
    messages={
        "Query": {"rows": "Row[]", "pageSize": "int32", "order": "enum:Order"},
        "Row": {"fieldName": "string", "orders": "enum:Order[]"},
    },
    enums={"Order": {0: "ORDER_UNSPECIFIED", 1: "ASCENDING", 2: "DESCENDING"}},
    answer_enums={"order": "Order"},
)


def test_snake_case_names_and_enum_numbers_read_as_camel_case_and_names() -> None:
    body = {"page_size": 5, "order": 2, "rows": [{"field_name": "a", "orders": ["ASCENDING", 0]}]}
    assert PROTO.read(body, "Query") == {
        "pageSize": 5,
        "order": "DESCENDING",
        "rows": [{"fieldName": "a", "orders": ["ASCENDING", "ORDER_UNSPECIFIED"]}],
    }
    assert PROTO.read({"rows": None}, "Query") == {"rows": []}


def test_unknown_fields_and_values_are_refused_with_a_bad_request() -> None:
    with pytest.raises(InvalidPayload) as unknown:
        PROTO.read({"rows": [{"bogus": 1}]}, "Query")
    assert unknown.value.message == (
        "Invalid JSON payload received. Unknown name \"bogus\" at 'rows[0]': Cannot find field."
    )
    details = unknown.value.body()["error"]["details"][0]
    assert details["fieldViolations"] == [
        {"field": "rows[0]", "description": unknown.value.message}
    ]
    with pytest.raises(InvalidPayload) as bad_enum:
        PROTO.read({"rows": [{"orders": ["UP"]}]}, "Query")
    assert bad_enum.value.message == (
        "Invalid value at 'rows[0].orders[0]' (type.googleapis.com/google.example.v1.Order), "
        '"UP"'
    )
    with pytest.raises(InvalidPayload, match="expected a list"):
        PROTO.read({"rows": {}}, "Query")
    with pytest.raises(InvalidPayload, match="Expected an object at 'rows\\[0\\]'"):
        PROTO.read({"rows": [3]}, "Query")
    with pytest.raises(InvalidPayload, match='Expected an object for "Query"'):
        PROTO.read([], "Query")
    with pytest.raises(InvalidPayload, match='Unknown name "page_sIze"'):
        PROTO.read({"page_sIze": 1}, "Query")


def test_a_body_is_json_or_nothing() -> None:
    assert PROTO.read_body(b" ", "Query") == {}
    assert PROTO.read_body(b'{"page_size": 2}', "Query") == {"pageSize": 2}
    with pytest.raises(GoogleError, match="Invalid JSON payload received."):
        PROTO.read_body(b"{nope", "Query")


def test_answers_carry_enum_numbers_when_the_client_asks_for_them() -> None:
    assert wants_int_enums("json;enum-encoding=int")
    assert wants_int_enums("json; enum-encoding=int")
    assert not wants_int_enums("json")
    assert not wants_int_enums(None)
    answer = {"items": [{"order": "DESCENDING", "name": "x"}], "order": "NONE"}
    assert PROTO.int_enums(answer) == {"items": [{"order": 2, "name": "x"}], "order": 0}
    assert PROTO.answer(answer, "json;enum-encoding=int") == PROTO.int_enums(answer)
    assert PROTO.answer(answer, None) is answer
