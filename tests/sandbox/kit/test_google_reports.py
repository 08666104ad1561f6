"""The sandbox kit's Core Reporting style queries and result tables: parsing in order,
each refusal by its kind, sorting, the startIndex/maxResults window and the headers."""

from __future__ import annotations

from datetime import date

import pytest

from metrics_connect.sandbox.kit.google_reports import (
    ReportQuery,
    parse_report_query,
    result_table,
)
from tests.sandbox.kit.refusals import Refused, refuse

BASE = {"startDate": "2026-01-01", "endDate": "2026-01-31", "metrics": "views,likes"}


def test_a_full_query() -> None:
    query = parse_report_query(
        {
            **BASE,
            "dimensions": "day,country",
            "filters": "video==a,b;country==BR",
            "sort": "-views,day",
            "startIndex": "3",
            "maxResults": "10",
        },
        refuse,
    )
    assert query == ReportQuery(
        date(2026, 1, 1),
        date(2026, 1, 31),
        ("views", "likes"),
        ("day", "country"),
        {"video": ("a", "b"), "country": ("BR",)},
        ("-views", "day"),
        10,
        3,
    )
    bare = parse_report_query(BASE, refuse)
    assert bare.dimensions == () and bare.filters == {} and bare.sort == ()
    assert bare.max_results is None and bare.start_index == 1
    # A startIndex of 0 reads as absent (the first row), as the emulators always did.
    assert parse_report_query({**BASE, "startIndex": "0"}, refuse).start_index == 1


@pytest.mark.parametrize(
    ("changes", "kind", "values"),
    [
        ({"startDate": ""}, "required", {"name": "startDate"}),
        ({"endDate": "2026-1-31"}, "not_a_date", {"text": "2026-1-31"}),
        ({"endDate": "2025-12-31"}, "dates_reversed", {}),
        ({"metrics": ","}, "required", {"name": "metrics"}),
        ({"filters": "video"}, "bad_filter", {"part": "video"}),
        ({"filters": "video=="}, "bad_filter", {"part": "video=="}),
        ({"startIndex": "-2"}, "start_index", {}),
        ({"maxResults": "ten"}, "not_an_integer", {"text": "ten"}),
    ],
)
def test_refusals(changes: dict[str, str], kind: str, values: dict[str, str]) -> None:
    with pytest.raises(Refused) as refused:
        parse_report_query({**BASE, **changes}, refuse)
    assert refused.value.args == (kind, values)


def test_result_table_sorts_cuts_and_heads() -> None:
    params = {**BASE, "metrics": "views,rate", "dimensions": "day", "sort": "-views"}
    rows = [["2026-01-02", 5, 0.5], ["2026-01-01", 9, 0.1], ["2026-01-03", 5, 0.2]]
    query = parse_report_query({**params, "startIndex": "2", "maxResults": "1"}, refuse)
    table = result_table("api#resultTable", query, rows, {"rate"}, refuse)
    assert table == {
        "kind": "api#resultTable",
        "columnHeaders": [
            {"name": "day", "columnType": "DIMENSION", "dataType": "STRING"},
            {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"},
            {"name": "rate", "columnType": "METRIC", "dataType": "FLOAT"},
        ],
        # By day first, then by views descending (stable): 01-01, 01-02, 01-03; the 2nd.
        "rows": [["2026-01-02", 5, 0.5]],
    }
    every = result_table("t", parse_report_query(params, refuse), rows, (), refuse)
    assert [r[0] for r in every["rows"]] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert "rows" not in result_table("t", query, [], (), refuse)
    with pytest.raises(Refused) as refused:
        result_table(
            "t", parse_report_query({**params, "sort": "-clicks"}, refuse), rows, (), refuse
        )
    assert refused.value.args == ("unknown_sort", {"name": "clicks"})
