"""The code-envelope family's parameters: required and default values, JSON arrays or
repeated values, date ranges, `filtering`, JSON bodies; refusals are 40002."""

from __future__ import annotations

from datetime import date

import pytest

from metrics_connect.sandbox.kit.code_envelope import INVALID_PARAMETER, CodeError
from metrics_connect.sandbox.kit.code_params import (
    body_params,
    date_range,
    filters_param,
    list_param,
    one_param,
)


def refusal(error: pytest.ExceptionInfo[CodeError]) -> tuple[int, str]:
    return error.value.code, error.value.message


def test_one_value_required_or_defaulted() -> None:
    params = {"a": ["1", "2"], "empty": [""]}
    assert one_param(params, "a") == "1" and one_param(params, "empty", "x") == "x"
    with pytest.raises(CodeError) as missing:
        one_param(params, "b")
    assert refusal(missing) == (INVALID_PARAMETER, "b: Missing data for required field.")


def test_lists_as_a_json_array_or_repeated_values() -> None:
    assert list_param(['["a", 1]'], "m") == ["a", 1] and list_param(["[7]"], "m") == [7]
    assert list_param(["a", '{"k": 1}'], "m") == ["a", {"k": 1}] and list_param([], "m") == []
    with pytest.raises(CodeError) as bad:
        list_param(['["a"'], "metrics")
    assert refusal(bad) == (INVALID_PARAMETER, "metrics: invalid JSON array")


def test_date_ranges() -> None:
    assert date_range("2026-01-01", "2026-01-30", 30) == (date(2026, 1, 1), date(2026, 1, 30))
    for start, end, message in (
        ("2026-01-01", "2026-01-31", "The time range cannot exceed 30 days for these dimensions"),
        ("2026-01-02", "2026-01-01", "end_date must not be earlier than start_date"),
        ("2026-13-01", "2026-01-01", "start_date/end_date: format YYYY-MM-DD"),
    ):
        with pytest.raises(CodeError) as refused:
            date_range(start, end, 30)
        assert refusal(refused) == (INVALID_PARAMETER, message)


def test_filtering_keeps_the_supported_fields_values() -> None:
    supported = {"campaign_ids": "campaign_id"}
    raw = ['[{"field_name": "campaign_ids", "filter_type": "IN", "filter_value": "[\\"1\\", 2]"}]']
    assert filters_param(raw, supported) == {"campaign_id": frozenset({"1", "2"})}
    assert filters_param([], supported) == {}
    for bad, message in (
        ('[{"field_name": "ad_ids", "filter_value": "[]"}]', "filtering: ad_ids is not supported"),
        ('[{"field_name": ["campaign_ids"]}]', "filtering: ['campaign_ids'] is not supported"),
        ('["campaign_ids"]', "filtering: objects of field_name"),
    ):
        with pytest.raises(CodeError, match=message.replace("[", r"\[")):
            filters_param([bad], supported)


def test_a_json_body_as_parameters() -> None:
    body = b'{"a": "x", "b": ["y"], "c": null, "d": 3}'
    assert body_params(body, "not JSON") == {"a": ["x"], "b": ['["y"]'], "d": ["3"]}
    assert body_params(b"", "not JSON") == {}
    with pytest.raises(CodeError) as refused:
        body_params(b"{", "The body is not JSON.")
    assert refusal(refused) == (INVALID_PARAMETER, "The body is not JSON.")
