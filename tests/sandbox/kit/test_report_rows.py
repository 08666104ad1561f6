"""The kit's report rows: ordering by columns, extremes, the "(other)" row."""

from __future__ import annotations

from metrics_connect.sandbox.kit.report_rows import Row, extremes, fold_other, order_rows

ROWS: list[Row] = [
    (("b", "x"), {"views": 3.0, "users": 1.0}),
    (("a", "y"), {"views": 3.0, "users": 2.0}),
    (("c", "x"), {"views": 9.0, "users": 2.0}),
]


def test_rows_order_by_values_then_by_each_column_the_first_most_significant() -> None:
    rows = list(ROWS)
    order_rows(rows, lambda r: r[0], [(lambda r: r[1]["views"], True)])
    assert [r[0][0] for r in rows] == ["c", "a", "b"]  # ties keep the dimension order
    order_rows(rows, lambda r: r[0], [(lambda r: r[0][1], False), (lambda r: r[1]["users"], True)])
    assert [r[0][0] for r in rows] == ["c", "b", "a"]
    order_rows(rows, lambda r: r[0], [])
    assert [r[0][0] for r in rows] == ["a", "b", "c"]


def test_extremes_per_metric_and_zero_without_rows() -> None:
    assert extremes(ROWS, ["views", "users"], max) == {"views": 9.0, "users": 2.0}
    assert extremes(ROWS, ["views"], min) == {"views": 3.0}
    assert extremes([], ["views"], max) == {"views": 0.0}


def test_groups_past_the_limit_fold_into_one_other_row() -> None:
    groups = {("a", "1"): [5], ("b", "1"): [7], ("c", "2"): [1], ("d", "2"): [7]}

    def merge(into: list[int], part: list[int]) -> None:
        into.extend(part)

    assert fold_other(groups, 4, 2, sum, merge, list) is None
    folded = fold_other(groups, 3, 2, sum, merge, list)
    assert folded == {("b", "1"): [7], ("d", "2"): [7], ("(other)", "(other)"): [5, 1]}
