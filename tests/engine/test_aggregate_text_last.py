"""`aggregation: last` over a text stock (a daily snapshot's "campaign last sent"): the
value of the group's latest day, where numeric stocks keep summing that day's rows."""

from __future__ import annotations

from datetime import date

from metrics_connect.engine.aggregate import Record, aggregate_source
from metrics_connect.engine.model import GroupDim, SourcePlan


def plan(field: str) -> SourcePlan:
    return SourcePlan(
        dataset="lists",
        kind="snapshot",
        field=field,
        aggregation="last",
        breakdowns=("list_name",),
        pushdown=(),
        options=(),
        local_filters=(),
        groups=(),
    )


def row(day: int, name: str, last_sent: str | None, members: int) -> Record:
    values = {"campaign_last_sent": last_sent, "member_count": members}
    return Record(date(2026, 11, day), name, {"list_name": name}, values)


ROWS = [
    row(18, "News", "2026-11-16T14:00:00+00:00", 100),
    row(19, "News", "2026-11-18T14:00:00+00:00", 110),
    row(20, "News", "2026-11-18T14:00:00+00:00", 120),
    row(19, "Buyers", "2026-11-19T10:00:00+00:00", 30),
    row(20, "Buyers", None, 31),  # a day without the text: the latest day that has it
]


def test_a_text_stock_is_the_latest_days_value() -> None:
    audience = GroupDim(name="list", label="Audience", kind="category", field="list_name")
    assert aggregate_source(plan("campaign_last_sent"), ROWS, (audience,)) == {
        ("News",): "2026-11-18T14:00:00+00:00",
        ("Buyers",): "2026-11-19T10:00:00+00:00",
    }
    assert aggregate_source(plan("campaign_last_sent"), ROWS, ()) == {
        (): "2026-11-18T14:00:00+00:00"  # the latest day's (the 20th), not the oldest
    }
    assert aggregate_source(plan("member_count"), ROWS, (audience,)) == {
        ("News",): 120,
        ("Buyers",): 31,
    }
