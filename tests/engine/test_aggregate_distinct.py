"""`aggregation: distinct`: the number of distinct values of a field in each group (the
orders of a category's order lines), empty values left out, 0 over no records."""

from __future__ import annotations

from metrics_connect.engine.aggregate import Record, aggregate_source, empty_value
from metrics_connect.engine.model import GroupDim, MetricNode, SourcePlan


def plan() -> SourcePlan:
    return SourcePlan(
        dataset="order_lines",
        kind="records",
        field="order",
        aggregation="distinct",
        breakdowns=(),
        pushdown=(),
        options=(),
        local_filters=(),
        groups=(),
        date_field="created_at",
    )


def line(number: int, order: str | None, category: str) -> Record:
    return Record(None, str(number), {"order": order, "category": category}, {})


def test_distinct_counts_each_value_once_per_group() -> None:
    lines = [
        line(1, "100", "Coffee"),
        line(2, "100", "Coffee"),  # two lines of one order: one order
        line(3, "101", "Coffee"),
        line(4, "100", "Tools"),
        line(5, None, "Tools"),  # no value: not counted
        line(6, "", "Tools"),
    ]
    category = GroupDim(name="category", label="Category", kind="category", field="category")
    assert aggregate_source(plan(), lines, (category,)) == {("Coffee",): 2, ("Tools",): 1}
    assert aggregate_source(plan(), lines, ()) == {(): 2}


def test_distinct_over_no_records_is_zero() -> None:
    node = MetricNode(name="orders", label="Orders", unit="count", source=plan())
    assert empty_value(node) == 0
