"""SQLite statements through the one-hop cursor: same results, one call to the driver's
thread per statement, errors as SQLAlchemy raises them."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from metrics_connect.db.engine import Database


@pytest.fixture
async def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'driver.db'}")
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield database
    await database.dispose()


async def test_one_hop_per_statement_with_rows_counts_and_ids(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops: list[object] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        hops.append(fn)
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with db.engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert inserted.lastrowid == 1 and inserted.rowcount == 1
        await conn.execute(text("INSERT INTO t (v) VALUES ('b')"))
        updated = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id >= 1"))
        assert updated.rowcount == 2
        returned = await conn.execute(text("UPDATE t SET v = 'c' WHERE id = 2 RETURNING id, v"))
        assert returned.all() == [(2, "c")]
        rows = await conn.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert rows.keys() == ["id", "v"] and rows.all() == [(1, "a!"), (2, "c")]
    # Five statements and the commit: six calls to the thread.
    assert len(hops) == 6


async def test_a_failing_statement_raises_as_sqlalchemy_does(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
    with pytest.raises(IntegrityError):
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
