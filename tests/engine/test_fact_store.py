"""The fact store: settle rule, freshness, live windows, the sync's archive, few selects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from metrics_connect.connectors.base import (
    DatasetSpec,
    FetchRequest,
    FetchResult,
    ObjectRow,
    Row,
)
from metrics_connect.engine.days import account_today, is_settled
from metrics_connect.engine.facts import FactStore, variant_key
from metrics_connect.engine.model import SourcePlan
from metrics_connect.engine.plan import collect_needs, plan_fetches
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

from .conftest import bare_integration

DAILY = DatasetSpec(
    "daily", "daily", ("clicks",), settle_after_days=2, fresh_seconds=600, max_days_per_call=5
)
STORIES = DatasetSpec("stories", "objects", ("reach",), settle_after_days=1, live_days=1)
SNAP = DatasetSpec("snap", "snapshot", ("followers",), settle_after_days=1, live_days=1)
PERIOD = DatasetSpec("period", "period", ("reach",), settle_after_days=2, fresh_seconds=600)
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 12:00 in Sao Paulo
TZ = "America/Sao_Paulo"
TODAY = date(2026, 3, 10)


def plan_for(spec: DatasetSpec) -> SourcePlan:
    return SourcePlan(spec.name, spec.kind, spec.fields[0], "sum", (), (), (), (), ())


@pytest.fixture
async def store_and_id(
    db_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[FactStore, int]]:
    runtime = Runtime.from_settings(settings_factory(db_url))
    yield FactStore(runtime.db), await bare_integration(runtime, timezone=TZ)
    await runtime.db.dispose()


def test_account_day_and_settle_rule() -> None:
    # 01:00 UTC on the 11th is still the 10th in Sao Paulo.
    assert account_today(datetime(2026, 3, 11, 1, 0, tzinfo=UTC), TZ) == TODAY
    assert not is_settled(DAILY, TODAY - timedelta(days=1), TODAY)
    assert not is_settled(DAILY, TODAY - timedelta(days=2), TODAY)
    assert is_settled(DAILY, TODAY - timedelta(days=3), TODAY)


async def test_store_then_load_rows_and_coverage(store_and_id: tuple[FactStore, int]) -> None:
    store, iid = store_and_id
    request = FetchRequest("daily", date(2026, 3, 1), TODAY)
    rows = [Row(date(2026, 3, d), {}, {"clicks": d}) for d in range(1, 11)]
    await store.store(
        iid, DAILY, request, FetchResult(rows=rows, incomplete_days={TODAY}), fetched_at=NOW
    )
    snap = await store.load(iid, day_keys=[("daily", "-")], start=date(2026, 3, 1), end=TODAY)
    assert sorted(r.values["clicks"] for r in snap.rows[("daily", "-")]) == list(range(1, 11))
    coverage = snap.coverage[("daily", "-")]
    assert coverage[date(2026, 3, 7)].settled
    assert not coverage[date(2026, 3, 8)].settled
    assert not coverage[TODAY].settled  # incomplete: never settled


async def test_planner_fetches_only_missing_and_stale_days(
    store_and_id: tuple[FactStore, int],
) -> None:
    store, iid = store_and_id
    specs = {"daily": DAILY}
    await store.store(
        iid,
        DAILY,
        FetchRequest("daily", date(2026, 3, 1), date(2026, 3, 9)),
        FetchResult(rows=[]),
        fetched_at=NOW - timedelta(hours=1),
    )
    needs = collect_needs([plan_for(DAILY)], [(date(2026, 2, 20), date(2026, 3, 31))], TODAY)
    snap = await store.load(iid, day_keys=needs.day_keys, start=date(2026, 2, 20), end=TODAY)
    fetches = plan_fetches(needs, snap, specs, now=NOW, today=TODAY)
    spans = [(f.request.start, f.request.end, f.reason) for f in fetches]
    # Feb 20-28 missing (cut at 5 days a call), Mar 8-9 stale (unsettled, fetched an hour
    # ago > 600 s), Mar 10 missing; the future is never asked for.
    assert spans == [
        (date(2026, 2, 20), date(2026, 2, 24), "missing"),
        (date(2026, 2, 25), date(2026, 2, 28), "missing"),
        (date(2026, 3, 8), date(2026, 3, 10), "missing"),
    ]


async def test_fresh_unsettled_days_are_not_refetched(store_and_id: tuple[FactStore, int]) -> None:
    store, iid = store_and_id
    await store.store(
        iid,
        DAILY,
        FetchRequest("daily", date(2026, 3, 1), TODAY),
        FetchResult(rows=[]),
        fetched_at=NOW - timedelta(seconds=60),
    )
    needs = collect_needs([plan_for(DAILY)], [(date(2026, 3, 1), TODAY)], TODAY)
    snap = await store.load(iid, day_keys=needs.day_keys, start=date(2026, 3, 1), end=TODAY)
    assert plan_fetches(needs, snap, {"daily": DAILY}, now=NOW, today=TODAY) == []


async def test_archive_outside_the_live_window_is_kept(store_and_id: tuple[FactStore, int]) -> None:
    store, iid = store_and_id
    yesterday = TODAY - timedelta(days=1)
    # The sync archived yesterday's story; today the network lists only today's.
    await store.store(
        iid,
        STORIES,
        FetchRequest("stories", yesterday, yesterday),
        FetchResult(objects=[ObjectRow("s1", yesterday, {}, {"reach": 5})]),
        fetched_at=NOW - timedelta(days=1),
    )
    await store.store(
        iid,
        STORIES,
        FetchRequest("stories", yesterday, TODAY),
        FetchResult(objects=[ObjectRow("s2", TODAY, {}, {"reach": 7})]),
        fetched_at=NOW,
    )
    snap = await store.load(iid, object_keys=[("stories", "-")], start=yesterday, end=TODAY)
    assert sorted(o.id for o in snap.objects[("stories", "-")]) == ["s1", "s2"]
    # And days outside the window are never planned for a fetch.
    needs = collect_needs([plan_for(STORIES)], [(yesterday - timedelta(days=5), TODAY)], TODAY)
    fetches = plan_fetches(
        needs, snap, {"stories": STORIES}, now=NOW + timedelta(hours=2), today=TODAY
    )
    assert [(f.request.start, f.request.end) for f in fetches] == [(TODAY, TODAY)]


async def test_snapshot_replaced_for_today_only(store_and_id: tuple[FactStore, int]) -> None:
    store, iid = store_and_id
    for n, followers in ((2, 100), (1, 110), (0, 120)):
        when = NOW - timedelta(days=n)
        await store.store(
            iid,
            SNAP,
            FetchRequest("snap", when.date() - timedelta(days=30), when.date()),
            FetchResult(rows=[Row(account_today(when, TZ), {}, {"followers": followers})]),
            fetched_at=when,
        )
    snap = await store.load(
        iid, day_keys=[("snap", "-")], start=TODAY - timedelta(days=5), end=TODAY
    )
    assert sorted((r.day, r.values["followers"]) for r in snap.rows[("snap", "-")]) == [
        (TODAY - timedelta(days=2), 100),
        (TODAY - timedelta(days=1), 110),
        (TODAY, 120),
    ]


async def test_periods_cached_per_exact_period(store_and_id: tuple[FactStore, int]) -> None:
    store, iid = store_and_id
    old = (date(2026, 2, 1), date(2026, 2, 28))
    recent = (date(2026, 3, 1), TODAY)
    for start, end in (old, recent):
        await store.store(
            iid,
            PERIOD,
            FetchRequest("period", start, end),
            FetchResult(rows=[Row(None, {}, {"reach": 9})]),
            fetched_at=NOW - timedelta(hours=1),
        )
    plan = plan_for(PERIOD)
    needs = collect_needs([plan], [old, recent, (date(2026, 2, 1), TODAY)], TODAY)
    snap = await store.load(iid, period_keys=needs.periods, start=old[0], end=TODAY)
    assert snap.periods[("period", "-", *old)].settled
    assert not snap.periods[("period", "-", *recent)].settled
    fetches = plan_fetches(needs, snap, {"period": PERIOD}, now=NOW, today=TODAY)
    assert sorted((f.request.start, f.request.end, f.reason) for f in fetches) == [
        (date(2026, 2, 1), TODAY, "missing"),
        (date(2026, 3, 1), TODAY, "stale"),
    ]


async def test_load_is_a_few_selects(store_and_id: tuple[FactStore, int]) -> None:
    store, iid = store_and_id
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(store.db.engine.sync_engine, "before_cursor_execute", count)
    keys = [
        ("daily", "-"),
        ("daily", variant_key(FetchRequest("daily", TODAY, TODAY, breakdowns=("x",)))),
    ]
    await store.load(
        iid,
        day_keys=keys,
        object_keys=[("stories", "-")],
        period_keys=[("period", "-", TODAY, TODAY), ("period", "-", date(2026, 1, 1), TODAY)],
        start=date(2026, 1, 1),
        end=TODAY,
    )
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The store's version, then coverage, rows, objects, periods.
    assert len(selects) == 5
    statements.clear()
    again = await store.load(
        iid,
        day_keys=keys,
        object_keys=[("stories", "-")],
        period_keys=[("period", "-", TODAY, TODAY), ("period", "-", date(2026, 1, 1), TODAY)],
        start=date(2026, 1, 1),
        end=TODAY,
    )
    # Nothing stored since: at most the version is read (it is trusted for half a second).
    assert len(statements) <= 1
    await store.store(
        iid,
        DAILY,
        FetchRequest("daily", TODAY, TODAY),
        FetchResult(rows=[Row(TODAY, {}, {"clicks": 1})]),
        fetched_at=NOW,
    )
    fresh = await store.load(
        iid,
        day_keys=keys,
        object_keys=[("stories", "-")],
        period_keys=[("period", "-", TODAY, TODAY), ("period", "-", date(2026, 1, 1), TODAY)],
        start=date(2026, 1, 1),
        end=TODAY,
    )
    event.remove(store.db.engine.sync_engine, "before_cursor_execute", count)
    assert fresh.version > again.version
    assert [r.values for r in fresh.rows[("daily", "-")]] == [{"clicks": 1}]


async def test_concurrent_stores_of_the_same_days_do_not_fail(
    store_and_id: tuple[FactStore, int],
) -> None:
    import asyncio

    store, iid = store_and_id
    request = FetchRequest("daily", date(2026, 3, 1), date(2026, 3, 9))
    writers = [FactStore(store.db) for _ in range(6)]
    await asyncio.gather(
        *(
            w.store(
                iid,
                DAILY,
                request,
                FetchResult(rows=[Row(date(2026, 3, d), {}, {"clicks": n}) for d in range(1, 10)]),
                fetched_at=NOW,
                timezone=TZ,
            )
            for n, w in enumerate(writers)
        )
    )
    snap = await store.load(iid, day_keys=[("daily", "-")], start=date(2026, 3, 1), end=TODAY)
    rows = snap.rows[("daily", "-")]
    assert len(rows) == 9  # one writer's rows, never a mix of two
    assert len({r.values["clicks"] for r in rows}) == 1
    assert len(snap.coverage[("daily", "-")]) == 9


async def test_concurrent_stale_version_reads_share_one_query(
    store_and_id: tuple[FactStore, int],
) -> None:
    # When the version goes stale under load, every request in flight found it stale
    # at once and read it on a connection of its own.
    store, _ = store_and_id
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = store.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        versions = await asyncio.gather(*(store.version() for _ in range(16)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(set(versions)) == 1
    assert len([s for s in statements if "fact_fetch_log" in s]) == 1


async def test_after_a_store_the_version_is_read_afresh_not_taken_from_an_earlier_read(
    store_and_id: tuple[FactStore, int],
) -> None:
    store, _ = store_and_id
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = store.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        begun = asyncio.ensure_future(store.version())
        await asyncio.sleep(0)  # its read is under way
        store._forget_version()  # what store() does once it wrote
        after = store.version()
        await asyncio.gather(begun, after)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if "fact_fetch_log" in s]) == 2
