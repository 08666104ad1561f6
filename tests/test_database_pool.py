"""Connections returning to the SQLite pool: rolled back only when inside a transaction."""

from __future__ import annotations

from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text

from metrics_connect.db.engine import Database


@pytest.fixture
async def db(sqlite_url: str) -> Any:
    database = Database(sqlite_url)
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE pool_probe (n INTEGER)"))
    yield database
    await database.dispose()


def _count_rollbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    rollbacks: list[int] = []
    original = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        rollbacks.append(1)
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    return rollbacks


async def test_a_committed_connection_returns_without_a_rollback(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollbacks = _count_rollbacks(monkeypatch)
    async with db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO pool_probe VALUES (1)"))
    assert rollbacks == []
    async with db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM pool_probe")) == 1


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollbacks = _count_rollbacks(monkeypatch)
    async with db.engine.connect() as conn:
        # Written past SQLAlchemy (which would roll back its own transaction): only
        # the pool's reset sees that sqlite3 is inside one.
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, aiosqlite.Connection)
        await driver.execute("INSERT INTO pool_probe VALUES (2)")
        assert driver.in_transaction
    assert rollbacks == [1]
    # Not kept, and the write lock is free for the next writer.
    async with db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO pool_probe VALUES (3)"))
        assert await conn.scalar(text("SELECT group_concat(n) FROM pool_probe")) == "3"
