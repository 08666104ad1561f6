"""Stock metrics read only their last days: the same answers as reading every day.

`FactStore.load(last_only=...)` keeps, of keys that only `last` aggregates read, each
keys' rows of its latest day per period (all its rows when one of them has no number).
Each test answers the same widgets from a full read and from the short one, and checks
both against hand-computed figures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from metrics_connect.connectors.base import FetchRequest, FetchResult, Row
from metrics_connect.engine.aggregate import Facts, last_only_reads
from metrics_connect.engine.facts import FactSnapshot, FactStore, _latest_of
from metrics_connect.engine.plan import collect_needs
from metrics_connect.engine.resolve import resolve_widget
from metrics_connect.engine.service import answer_widgets
from metrics_connect.engine.tables import fact_rows
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

from .conftest import bare_integration
from .rules import DATASETS, day, toy_catalog, widget

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BY_GENDER = ("snap", '{"b":["gender"]}')
WHOLE = ("snap", "-")


@pytest.fixture
async def store_and_id(
    db_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[FactStore, int]]:
    runtime = Runtime.from_settings(settings_factory(db_url))
    iid = await bare_integration(runtime)
    store = FactStore(runtime.db)
    await _archive(store, iid)
    yield store, iid
    await runtime.db.dispose()


async def _archive(store: FactStore, iid: int) -> None:
    """Ten days of snapshots. By gender: F every day to day 6; M to day 4, then a row
    without a number on day 6; U only on day 5 (a numeric string). Whole: days 0-5."""
    by_gender = [Row(day(n), {"gender": "F"}, {"followers": 10 + n}) for n in range(7)]
    by_gender += [Row(day(n), {"gender": "M"}, {"followers": 5 + n}) for n in range(5)]
    by_gender += [
        Row(day(6), {"gender": "M"}, {"followers": None}),
        Row(day(5), {"gender": "U"}, {"followers": "3"}),
    ]
    whole = [Row(day(n), {}, {"followers": 100 + n}) for n in range(6)]
    spec = DATASETS["snap"]
    for breakdowns, rows in (((), whole), (("gender",), by_gender)):
        request = FetchRequest("snap", day(0), day(9), breakdowns=breakdowns)
        await store.store(
            iid, spec, request, FetchResult(rows=rows), fetched_at=NOW, timezone="UTC"
        )


def _facts(snapshot: FactSnapshot) -> Facts:
    return Facts(
        today=TODAY,
        rows=snapshot.rows,
        objects=snapshot.objects,
        periods={k: v.rows for k, v in snapshot.periods.items()},
        coverage={k: set(v) for k, v in snapshot.coverage.items()},
    )


async def _both(
    store: FactStore, iid: int, widgets: list[Any], periods: list[tuple[date, date]]
) -> tuple[dict[str, Any], dict[str, Any], FactSnapshot, dict[Any, frozenset[str]]]:
    """The answers from a full read and from the short read, the short snapshot, and
    the keys read short."""
    resolved = [resolve_widget(toy_catalog(), w) for w in widgets]
    needs = collect_needs([p for w in resolved for p in w.sources()], periods, TODAY)
    assert needs.span is not None
    last = last_only_reads(resolved)
    common: dict[str, Any] = {
        "day_keys": needs.day_keys,
        "object_keys": needs.object_keys,
        "period_keys": needs.periods,
        "start": needs.span[0],
        "end": needs.span[1],
    }
    full = await store.load(iid, **common)
    short = await store.load(iid, **common, last_only=last, periods=periods)
    comparison = periods[1] if len(periods) > 1 else None
    return (
        answer_widgets(resolved, _facts(full), periods[0], comparison),
        answer_widgets(resolved, _facts(short), periods[0], comparison),
        short,
        last,
    )


async def test_stock_by_group_takes_each_groups_last_day_with_a_number(
    store_and_id: tuple[FactStore, int],
) -> None:
    store, iid = store_and_id
    widgets = [
        widget("by_gender", component="chart_v1", metrics=["followers"], dimensions=["gender"]),
        widget("table", component="datatable_v1", metrics=["followers"], dimensions=["gender"]),
        widget("total", metrics=["followers"]),
    ]
    # The comparison overlaps the period: rows kept for one must not count twice.
    full, short, snapshot, last = await _both(
        store, iid, widgets, [(day(0), day(9)), (day(2), day(5))]
    )
    assert last == {BY_GENDER: frozenset({"followers"}), WHOLE: frozenset({"followers"})}
    assert short == full
    # The period's last days (7-9) have no data; M's day 6 has no number: its day 4.
    assert full["by_gender"]["labels"] == ["Female", "Male", "U"]
    assert full["by_gender"]["values"][0]["data"] == [16, 9, 3]
    assert full["by_gender"]["comparison"]["values"][0]["data"] == [15, 9, 3]
    # The Total row: the last day with a number over every gender (day 6: F only).
    assert full["table"]["values"][-1] == ["Total", 16]
    assert full["table"]["comparison"]["values"][-1] == ["Total", 18]
    assert full["total"]["values"] == 105
    assert full["total"]["comparison"]["values"] == 105
    # Far fewer rows decoded: per period, each gender's last day (M: all its days).
    assert len(snapshot.rows[BY_GENDER]) < 10
    assert len(snapshot.rows[WHOLE]) == 1


async def test_a_daily_series_of_a_stock_metric_reads_every_day(
    store_and_id: tuple[FactStore, int],
) -> None:
    store, iid = store_and_id
    widgets = [
        widget("series", component="chart_v1", metrics=["followers"], dimensions=["date"]),
        widget("total", metrics=["followers"]),
        widget("by_gender", component="chart_v1", metrics=["followers"], dimensions=["gender"]),
    ]
    periods = [(day(0), day(9)), (day(0), day(3))]
    full, short, snapshot, last = await _both(store, iid, widgets, periods)
    # The series and the total share the whole key: it is read whole.
    assert last == {BY_GENDER: frozenset({"followers"})}
    assert short == full
    assert full["series"]["values"][0]["data"] == [100, 101, 102, 103, 104, 105] + [None] * 4
    assert full["series"]["comparison"]["values"][0]["data"] == [100, 101, 102, 103]
    assert full["total"]["values"] == 105
    assert len(snapshot.rows[WHOLE]) == 6


async def test_a_period_before_any_data_answers_as_a_full_read(
    store_and_id: tuple[FactStore, int],
) -> None:
    store, iid = store_and_id
    widgets = [
        widget("by_gender", component="chart_v1", metrics=["followers"], dimensions=["gender"]),
        widget("total", metrics=["followers"]),
    ]
    # The comparison period ends on day 0: only day 0 has data in it.
    full, short, _, _ = await _both(store, iid, widgets, [(day(5), day(9)), (day(-5), day(0))])
    assert short == full
    assert full["total"]["comparison"]["values"] == 100
    assert full["by_gender"]["comparison"]["values"][0]["data"] == [10, 5]


async def test_the_database_keeps_every_row_of_the_last_day_and_falls_back_per_keys(
    store_and_id: tuple[FactStore, int],
) -> None:
    store, iid = store_and_id
    f, m = '{"gender":"F"}', '{"gender":"M"}'
    rows = [
        (day(1), f, '{"followers":1}'),
        (day(2), f, '{"followers":2}'),
        (day(2), f, '{"followers":3}'),  # two rows of the same keys and day: both count
        (day(1), m, '{"followers":4}'),
        (day(2), m, '{"other":5}'),  # no number of the field: every M row
        (day(3), f, '{"followers":6}'),  # after the period
    ]
    async with store.db.engine.begin() as conn:
        await conn.execute(
            insert(fact_rows),
            [
                {"integration_id": iid, "dataset": "unit", "variant": "-", "day": d}
                | {"keys": k, "vals": v}
                for d, k, v in rows
            ],
        )
    as_text = [(d.isoformat(), k, v) for d, k, v in rows]
    fields = frozenset({"followers"})
    async with store.db.engine.connect() as conn:
        kept = await _latest_of(conn, iid, ("unit", "-"), [(day(0), day(2))], fields)
        assert [(str(d), k, v) for d, k, v in kept] == as_text[1:5]
        # Two periods: the union, each row once, in stored order.
        both = [(day(0), day(1)), (day(0), day(3))]
        kept = await _latest_of(conn, iid, ("unit", "-"), both, fields)
        assert [(str(d), k, v) for d, k, v in kept] == [as_text[i] for i in (0, 3, 4, 5)]


def test_only_keys_every_reader_aggregates_with_last_are_read_short() -> None:
    catalog = toy_catalog()
    resolved = [
        resolve_widget(catalog, w)
        for w in (
            widget("f", metrics=["followers"]),
            widget("c", metrics=["clicks"]),
            widget("g", component="chart_v1", metrics=["followers"], dimensions=["gender"]),
        )
    ]
    assert last_only_reads(resolved) == {
        BY_GENDER: frozenset({"followers"}),
        WHOLE: frozenset({"followers"}),
    }
    by_day = resolve_widget(
        catalog,
        widget("d", component="chart_v1", metrics=["followers"], dimensions=["gender", "date"]),
    )
    assert last_only_reads([*resolved, by_day]) == {WHOLE: frozenset({"followers"})}
