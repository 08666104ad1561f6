"""A sync run's writes in one transaction (FactStore.store_many): the same archive as
writing each fetch on its own, in a few statements; unchanged days left untouched."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from metrics_connect.connectors.base import DatasetSpec, FetchRequest, FetchResult, ObjectRow, Row
from metrics_connect.engine.days import account_today
from metrics_connect.engine.fact_writes import Fetched, plan_write, store_days
from metrics_connect.engine.facts import FactStore, variant_key
from metrics_connect.engine.tables import fact_coverage, fact_objects, fact_rows
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

from .conftest import bare_integration

WINDOW = DatasetSpec("window", "daily", ("n",), settle_after_days=1, live_days=30)
LISTING = DatasetSpec("listing", "objects", ("reach",), settle_after_days=1)
STORIES = DatasetSpec("stories", "objects", ("reach",), settle_after_days=1, live_days=1)
TZ = "UTC"
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)


@pytest.fixture
async def store_and_ids(
    db_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[FactStore, int, int]]:
    runtime = Runtime.from_settings(settings_factory(db_url))
    first = await bare_integration(runtime, timezone=TZ)
    second = await bare_integration(runtime, timezone=TZ)
    yield FactStore(runtime.db), first, second
    await runtime.db.dispose()


def window(days: int, value: Callable[[date, int], int]) -> Fetched:
    start, end = TODAY - timedelta(days=days), TODAY - timedelta(days=1)
    rows = [
        Row(start + timedelta(days=d), {"hour": str(h)}, {"n": value(start + timedelta(days=d), h)})
        for d in range(days)
        for h in range(3)
    ]
    return Fetched(WINDOW, FetchRequest("window", start, end), FetchResult(rows=rows))


def listing(ids: list[str], day: date) -> Fetched:
    objects = [ObjectRow(i, day, {"kind": "post"}, {"reach": len(i)}) for i in ids]
    return Fetched(LISTING, FetchRequest("listing", day, day), FetchResult(objects=objects))


def stories(values: dict[str, int]) -> Fetched:
    objects = [ObjectRow(i, TODAY, {"kind": "story"}, {"reach": v}) for i, v in values.items()]
    return Fetched(STORIES, FetchRequest("stories", TODAY, TODAY), FetchResult(objects=objects))


async def archive(store: FactStore, integration_id: int) -> dict[str, Any]:
    """Everything stored for the integration, ids and integration left out."""
    async with store.db.engine.connect() as conn:
        rows = await conn.execute(
            select(fact_rows.c.dataset, fact_rows.c.variant, fact_rows.c.day)
            .add_columns(fact_rows.c["keys"], fact_rows.c.vals)
            .where(fact_rows.c.integration_id == integration_id)
        )
        objects = await conn.execute(
            select(
                fact_objects.c.dataset,
                fact_objects.c.object_id,
                fact_objects.c.day,
                fact_objects.c.attributes,
                fact_objects.c.vals,
                fact_objects.c.fetched_at,
            ).where(fact_objects.c.integration_id == integration_id)
        )
        coverage = await conn.execute(
            select(
                fact_coverage.c.dataset,
                fact_coverage.c.day,
                fact_coverage.c.fetched_at,
                fact_coverage.c.settled,
                fact_coverage.c.notes,
            ).where(fact_coverage.c.integration_id == integration_id)
        )
        return {
            "rows": sorted(tuple(r) for r in rows),
            "objects": sorted(tuple(r) for r in objects),
            "coverage": sorted(tuple(r) for r in coverage),
        }


async def store_one(store: FactStore, integration_id: int, f: Fetched, at: datetime) -> None:
    """The reference: one fetch's days deleted and written again by their own statements
    (as every store was before the bulk writes)."""
    write = plan_write(f, variant_key(f.request), account_today(at, TZ))
    assert write is not None
    async with store.db.engine.begin() as conn:
        await store_days(conn, integration_id, write, at)


RUNS: list[tuple[timedelta, list[Fetched]]] = [
    (
        timedelta(0),
        [
            window(30, lambda d, h: d.day * 10 + h),
            listing(["a", "b", "c"], TODAY - timedelta(days=1)),
            stories({"s1": 1, "s2": 2}),
        ],
    ),
    (
        timedelta(hours=2),
        [
            # A week later the settled days repeat; two days changed, one lost an hour.
            window(
                30,
                lambda d, h: -1 if d == TODAY - timedelta(days=2) and h == 1 else d.day * 10 + h,
            ),
            # "b" was deleted upstream; "d" is new.
            listing(["a", "c", "d"], TODAY - timedelta(days=1)),
            stories({"s2": 5, "s3": 3}),
            # Two fetches of one day in one run: the later one wins.
            stories({"s3": 4}),
        ],
    ),
]


async def test_one_transaction_keeps_what_fetches_one_by_one_keep(
    store_and_ids: tuple[FactStore, int, int],
) -> None:
    store, together, one_by_one = store_and_ids
    for offset, fetches in RUNS:
        await store.store_many(together, fetches, fetched_at=NOW + offset, timezone=TZ)
        for f in fetches:
            await store_one(store, one_by_one, f, NOW + offset)
    kept = await archive(store, together)
    assert kept == await archive(store, one_by_one)
    assert {o[1] for o in kept["objects"]} == {"a", "c", "d", "s1", "s2", "s3"}
    assert [o[4] for o in kept["objects"] if o[1] == "s3"] == ['{"reach":4}']


async def test_a_run_is_a_few_statements_and_unchanged_days_stay(
    store_and_ids: tuple[FactStore, int, int],
) -> None:
    store, integration_id, _ = store_and_ids
    if store.db.is_sqlite:
        pytest.skip("PostgreSQL writes a transaction's fetches together")
    first = [window(30, lambda d, h: d.day * 10 + h), stories({"s1": 1})]
    await store.store_many(integration_id, first, fetched_at=NOW, timezone=TZ)
    async with store.db.engine.connect() as conn:
        before = dict((await conn.execute(select(fact_rows.c.id, fact_rows.c.day))).tuples().all())
    changed_day = TODAY - timedelta(days=3)
    statements: list[str] = []
    sync_engine = store.db.engine.sync_engine
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(sync_engine, "before_cursor_execute", listener)
    try:
        second = [
            window(30, lambda d, h: 0 if d == changed_day else d.day * 10 + h),
            stories({"s1": 2}),
        ]
        await store.store_many(
            integration_id, second, fetched_at=NOW + timedelta(hours=1), timezone=TZ
        )
    finally:
        event.remove(sync_engine, "before_cursor_execute", listener)
    # Locks, rows, objects, coverage, fetch log: whatever the number of rows.
    assert len(statements) == 5
    async with store.db.engine.connect() as conn:
        after = dict((await conn.execute(select(fact_rows.c.id, fact_rows.c.day))).tuples().all())
    kept = set(before) & set(after)
    assert {before[i] for i in set(before) - kept} == {changed_day}
    assert {after[i] for i in set(after) - kept} == {changed_day}
    assert len(after) == len(before) == 90
