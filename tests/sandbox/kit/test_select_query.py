"""The sandbox kit's SELECT query language: clauses in any case, values bare, quoted or
listed, each refusal by its kind, comparisons, ORDER BY and LIMIT."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from metrics_connect.sandbox.kit.periods import Preset
from metrics_connect.sandbox.kit.select_query import (
    SelectQuery,
    date_span,
    matches,
    ordered,
    parse_select,
)
from tests.sandbox.kit.refusals import Refused, refuse


def test_a_full_query() -> None:
    query = parse_select(
        "select a.id, m.clicks FROM things WHERE a.name LIKE 'x%' AND a.id NOT IN (1, '2') "
        "AND d BETWEEN '2026-01-01' AND \"2026-01-31\" AND d during LAST_7_DAYS "
        "ORDER BY m.clicks DESC, a.id LIMIT 5 PARAMETERS include_drafts=true",
        refuse,
    )
    assert query == SelectQuery(
        select=["a.id", "m.clicks"],
        resource="things",
        where=[
            ("a.name", "LIKE", "x%"),
            ("a.id", "NOT IN", ["1", "2"]),
            ("d", "BETWEEN", ("2026-01-01", "2026-01-31")),
            ("d", "DURING", "LAST_7_DAYS"),
        ],
        order=[("m.clicks", True), ("a.id", False)],
        limit=5,
    )


@pytest.mark.parametrize(
    ("text", "kind", "values"),
    [
        ("", "expected_select", {}),
        ("FROM things", "expected_select", {}),
        ("SELECT a", "expected_from", {}),
        ("SELECT a FROM", "unexpected_end", {}),
        ("SELECT a FROM things WHERE a =", "unexpected_end", {}),
        ("SELECT a FROM things WHERE d DURING", "unexpected_end", {}),
        ("SELECT a FROM things WHERE a IN (1, 2", "unexpected_end", {}),
        ("SELECT a FROM things ORDER BY a LIMIT", "unexpected_end", {}),
        ("SELECT a FROM things LIMIT x", "bad_limit", {"text": "x"}),
        ("SELECT a FROM things LIMIT -1", "bad_limit", {"text": "-1"}),
        ("SELECT a FROM things GROUP", "unexpected_word", {"word": "GROUP"}),
        ("SELECT a FROM things WHERE a = 'open", "unexpected_text", {"text": " 'open"}),
    ],
)
def test_each_refusal_by_its_kind(text: str, kind: str, values: dict[str, Any]) -> None:
    with pytest.raises(Refused) as refused:
        parse_select(text, refuse)
    assert refused.value.args == (kind, values)


def test_comparisons() -> None:
    assert matches("Search - Brand", "LIKE", "search%") and matches("ab", "LIKE", "a_")
    assert matches("Display", "NOT LIKE", "search%")
    assert matches(7, "IN", ["7", "8"]) and matches(7, "NOT IN", ["8"])
    assert matches("x", "=", "x") and matches("x", "!=", "y")
    assert matches("12", ">", "3") and matches(None, "<=", "0") and not matches(2.5, ">=", 3)


def test_order_by_numbers_before_text_then_limit() -> None:
    rows = [{"n": "10", "t": "b"}, {"n": "9", "t": "a"}, {"n": None, "t": "a"}]
    query = parse_select("SELECT n FROM r ORDER BY t, n DESC LIMIT 2", refuse)
    # Descending, the text (unset) comes before the numbers.
    assert ordered(rows, query, lambda row, name: row[name]) == [rows[2], rows[1]]
    query = parse_select("SELECT n FROM r ORDER BY n", refuse)
    assert ordered(rows, query, lambda row, name: row[name]) == [rows[1], rows[0], rows[2]]


START, TODAY = date(2026, 1, 1), date(2026, 3, 10)
PRESETS = {"LAST_7_DAYS": Preset(days=(7, 1)), "THIS_MONTH": Preset(months=(0, 0))}


def span(condition: str) -> tuple[date, date, bool]:
    query = parse_select(f"SELECT a FROM r WHERE {condition}", refuse)
    return date_span(query, "d", START, TODAY, PRESETS, refuse)


def test_a_date_span_narrowed_by_each_condition_on_its_field() -> None:
    assert span("x = 1") == (START, TODAY, False)
    assert span("d during last_7_days") == (date(2026, 3, 3), date(2026, 3, 9), True)
    assert span("d DURING THIS_MONTH AND d > '2026-03-04'") == (date(2026, 3, 5), TODAY, True)
    assert span("d BETWEEN '2025-12-01' AND '2026-01-05'") == (START, date(2026, 1, 5), True)
    assert span("d >= '2026-02-01' AND d < '2026-02-10'") == (
        date(2026, 2, 1),
        date(2026, 2, 9),
        True,
    )
    assert span("d = '2026-02-14'") == (date(2026, 2, 14), date(2026, 2, 14), True)


def test_a_date_span_refuses_unknown_presets_and_operators() -> None:
    with pytest.raises(Refused) as refused:
        span("d DURING LAST_90_DAYS")
    assert refused.value.args == ("date_literal", {"literal": "LAST_90_DAYS"})
    with pytest.raises(Refused) as refused:
        span("d != '2026-02-14'")
    assert refused.value.args == ("date_operator", {"op": "!="})
    with pytest.raises(ValueError):
        span("d = 'someday'")
