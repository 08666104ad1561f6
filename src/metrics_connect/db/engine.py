"""Database URLs, engines and sessions (async for the service, sync for migrations)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

from metrics_connect.db.sqlite_driver import one_hop_dbapi


def async_url(url: str) -> str:
    """The async driver URL for a user-given URL (sqlite:///..., postgresql://...)."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        return u.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database backend: {backend}")


def sync_url(url: str) -> str:
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        return u.set(drivername="sqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database backend: {backend}")


def ensure_sqlite_dir(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """One async engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        ensure_sqlite_dir(url)
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        kwargs: dict[str, object] = {"pool_pre_ping": True}
        if self.is_sqlite:
            # Returned connections are rolled back only when a transaction is open
            # (_sqlite_reset): the default rollback after every commit cost a hop to
            # the connection's thread, a sixth of a job step's.
            kwargs = {"connect_args": {"timeout": 30}, "pool_reset_on_return": None}
            # One hop to the driver's thread per statement instead of three or four.
            kwargs["module"] = one_hop_dbapi()
        else:
            kwargs.update(pool_size=10, max_overflow=20)
        self.engine: AsyncEngine = create_async_engine(async_url(url), **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "reset", _sqlite_reset)
        # For work that is one statement (a guarded UPDATE, a read by key): on
        # PostgreSQL it runs in autocommit, which drops the COMMIT (or ROLLBACK) round
        # trip around it; the statement is atomic on its own. Writes use it as
        # `.begin()`, so that they commit on SQLite, which keeps the plain engine: its
        # driver resets the isolation level with a PRAGMA on each return to the pool,
        # dearer than the COMMIT it saves.
        self.single_statement_engine: AsyncEngine = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as s:
            yield s

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_reset(dbapi_conn: object, record: ConnectionPoolEntry, state: PoolResetState) -> None:
    """Roll back a connection coming back to the pool if it is inside a transaction.

    sqlite3 knows (`in_transaction`, read without a hop to aiosqlite's thread); after
    a commit, or a read in autocommit, there is nothing to roll back. A connection
    dropped by the garbage collector (not `asyncio_safe`) is closed, not reset.
    """
    if not state.asyncio_safe:
        return
    driver = record.driver_connection
    if driver is None or getattr(driver, "in_transaction", True):
        dbapi_conn.rollback()  # type: ignore[attr-defined]
