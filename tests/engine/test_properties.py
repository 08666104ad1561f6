"""Properties (hypothesis): answers do not depend on widget order, on a warm or cold
store, or on how earlier requests split the period."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Connected
from .rules import answer, day, widget

TOY_WIDGETS = [
    widget("a", metrics=["clicks"]),
    widget("b", component="chart_v1", metrics=["clicks", "ctr"], dimensions=["date"]),
    widget("c", component="datatable_v1", metrics=["clicks", "ctr"], dimensions=["device"]),
    widget("d", metrics=["reach:average"], dimensions=["posts"]),
    widget("e", component="chart_v1", metrics=["followers"], dimensions=["gender"]),
    widget("f", metrics=["nope"]),
    widget("g", component="datatable_v1", metrics=["type", "likes"], dimensions=["posts"]),
]


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(range(len(TOY_WIDGETS))), comparison=st.booleans())
def test_widget_order_does_not_change_answers(order: list[int], comparison: bool) -> None:
    window = (day(0), day(4)) if comparison else None
    straight = answer(TOY_WIDGETS, start=day(5), end=day(9), comparison=window)
    shuffled = answer([TOY_WIDGETS[i] for i in order], start=day(5), end=day(9), comparison=window)
    assert shuffled == straight
    assert list(shuffled) == [TOY_WIDGETS[i].id for i in order]


OCT_1 = date(2026, 10, 1)


def ig_widgets() -> list[dict[str, Any]]:
    return [
        {
            "id": "chart",
            "reference_key": "ig:reach_over_time",
            "component": "chart_v1",
            "metrics": ["reach"],
            "dimensions": ["date"],
        },
        {
            "id": "likes",
            "reference_key": "ig:like_count",
            "component": "number_v1",
            "metrics": ["likes"],
            "dimensions": ["media"],
        },
        {
            "id": "reach",
            "reference_key": "ig:reach",
            "component": "number_v1",
            "metrics": ["reach"],
        },
        {
            "id": "posts",
            "reference_key": "ig:media_datatable",
            "component": "datatable_v1",
            "metrics": ["type", "reach", "likes", "engagement_rate"],
            "dimensions": ["media"],
            "sort": ["-reach"],
        },
    ]


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    offset=st.integers(min_value=0, max_value=15),
    length=st.integers(min_value=1, max_value=10),
    cuts=st.lists(st.integers(min_value=-3, max_value=16), max_size=3),
)
async def test_warm_cold_and_split_stores_answer_alike(
    connected: Connected, offset: int, length: int, cuts: list[int]
) -> None:
    start = OCT_1 + timedelta(days=offset)
    end = start + timedelta(days=length - 1)
    body = connected.body(start.isoformat(), end.isoformat(), ig_widgets())

    cold = await connected.another_integration()
    cold_answer = await connected.get_data(dict(body, customer_integration=cold))

    warm = await connected.another_integration()
    # Earlier requests over pieces of (and around) the period, split at random days.
    points = sorted({start + timedelta(days=c) for c in cuts} | {start, end + timedelta(days=1)})
    for piece_start, piece_end in pairwise(points):
        earlier = connected.body(
            piece_start.isoformat(), (piece_end - timedelta(days=1)).isoformat(), ig_widgets()
        )
        await connected.get_data(dict(earlier, customer_integration=warm))
    warm_answer = await connected.get_data(dict(body, customer_integration=warm))
    assert warm_answer == cold_answer
    # And once more, fully warm: the same answer without a single upstream call.
    calls = connected.calls
    assert await connected.get_data(dict(body, customer_integration=warm)) == cold_answer
    assert connected.calls == calls
