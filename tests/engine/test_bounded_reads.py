"""The store's reads are bounded by the days asked, not by the archive's length.

Each read of a fact table must reach its rows through an index on the asked days (or,
for stock snapshots' latest days, a seek per distinct keys): SQLite's query plan for
every statement of a load says how it searches, so a statement that walks every stored
day of an integration fails here, whatever the machine's speed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from metrics_connect.connectors.base import FetchRequest, FetchResult, ObjectRow, Row
from metrics_connect.engine.facts import FactStore, variant_key
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

from .conftest import bare_integration
from .test_fact_store import DAILY, NOW, SNAP, STORIES, TODAY

ARCHIVE_DAYS = 400
FACT_TABLES = ("fact_rows", "fact_objects", "fact_coverage", "fact_periods")
BY_GENDER = ("gender",)


@pytest.fixture
async def archive(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[FactStore, int]]:
    """Daily rows, snapshots by gender and stories over 400 days."""
    runtime = Runtime.from_settings(settings_factory(sqlite_url))
    iid = await bare_integration(runtime)
    store = FactStore(runtime.db)
    first = TODAY - timedelta(days=ARCHIVE_DAYS)
    days = [first + timedelta(days=n) for n in range(ARCHIVE_DAYS + 1)]
    await store.store(
        iid,
        DAILY,
        FetchRequest("daily", first, TODAY),
        FetchResult(rows=[Row(d, {}, {"clicks": d.day}) for d in days]),
        fetched_at=NOW,
    )
    await store.store(
        iid,
        SNAP,
        FetchRequest("snap", first, TODAY, breakdowns=BY_GENDER),
        FetchResult(
            rows=[Row(d, {"gender": g}, {"followers": d.day}) for d in days for g in "FMU"]
        ),
        fetched_at=NOW,
    )
    await store.store(
        iid,
        STORIES,
        FetchRequest("stories", first, TODAY),
        FetchResult(objects=[ObjectRow(f"s{d}", d, {}, {"reach": 1}) for d in days]),
        fetched_at=NOW,
    )
    yield store, iid
    await runtime.db.dispose()


def _unbounded(plan: list[str]) -> list[str]:
    """Plan lines that read a fact table without the asked days or keys: a scan, or a
    search by integration (and dataset, variant) alone. The first step of the walk over
    distinct keys (`walked`, one row: LIMIT 1) is bounded."""
    out = []
    for line in plan:
        found = re.match(r"(SCAN|SEARCH) (\w+)", line)
        if found is None:
            continue
        kind, table = found.groups()
        if table == "walked" and kind == "SEARCH":
            continue  # the walk's steps: ORDER BY keys LIMIT 1 on the index, one row each
        if table in (*FACT_TABLES, "walked", "seeked") and (
            kind == "SCAN" or not re.search(r"\b(day|keys)\b", line)
        ):
            out.append(line)
    return out


async def test_every_read_of_a_load_searches_by_the_asked_days(
    archive: tuple[FactStore, int],
) -> None:
    store, iid = archive
    executed: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if any(table in statement for table in FACT_TABLES):
            executed.append((statement, parameters))

    by_gender = ("snap", variant_key(FetchRequest("snap", TODAY, TODAY, breakdowns=BY_GENDER)))
    start = TODAY - timedelta(days=29)
    event.listen(store.db.engine.sync_engine, "before_cursor_execute", record)
    snapshot = await store.load(
        iid,
        day_keys=[("daily", "-"), by_gender],
        object_keys=[("stories", "-")],
        start=start,
        end=TODAY,
        last_only={by_gender: ["followers"]},
        periods=[(start, TODAY), (start - timedelta(days=30), start - timedelta(days=1))],
    )
    event.remove(store.db.engine.sync_engine, "before_cursor_execute", record)
    # What was asked, and no more.
    assert len(snapshot.rows[("daily", "-")]) == 30
    assert {o.day for o in snapshot.objects[("stories", "-")]} == {
        start + timedelta(days=n) for n in range(30)
    }
    # Each period's latest day of each gender.
    assert (
        sorted(r.day for r in snapshot.rows[by_gender])
        == [start - timedelta(days=1)] * 3 + [TODAY] * 3
    )

    unbounded: dict[str, list[str]] = {}
    async with store.db.engine.connect() as conn:
        for statement, parameters in executed:
            result = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = [str(row[-1]) for row in result]
            if _unbounded(plan):
                unbounded[statement] = plan
    assert len(executed) >= 5
    assert unbounded == {}


def test_the_plan_check_catches_a_search_by_integration_alone() -> None:
    assert _unbounded(
        ["SEARCH fact_rows USING INDEX ix_fact_rows_latest (integration_id=?)", "LIST SUBQUERY 2"]
    )
    assert _unbounded(["SCAN fact_coverage"])
    assert not _unbounded(
        [
            "SEARCH fact_rows USING INDEX ix_fact_rows_lookup "
            "(integration_id=? AND dataset=? AND variant=? AND day>? AND day<?)"
        ]
    )
