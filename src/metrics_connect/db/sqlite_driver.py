"""SQLite through aiosqlite with one hop to the connection's thread per statement.

SQLAlchemy's aiosqlite adapter makes each statement three or four calls to the
driver's thread (open a cursor, execute, fetch the rows, close the cursor), each a
queue put, a thread wake-up and a callback into the event loop. Here the cursor
does the four in the thread in one call (an executemany too). An async job's steps
went from 19 hops to about 7; every statement of the API on SQLite gains the same way.

Passed to `create_async_engine(module=...)`: SQLAlchemy's aiosqlite dialect takes it
for its DBAPI module. It leans on aiosqlite's `Connection._execute` (the one way to
run a function on the connection's thread), pinned by requirements.lock.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Result = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Result:
    """In the driver's thread: the statement, its rows and counts, the cursor closed."""
    cursor = connection.cursor()
    try:
        cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, parameters: Any) -> int:
    """In the driver's thread: the statement for each set of parameters; rows changed."""
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.rowcount
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        driver = cast(aiosqlite.Connection, self._connection)
        try:
            description, rows, rowcount, lastrowid = self.await_(
                driver._execute(
                    _run, driver._conn, operation, () if parameters is None else parameters
                )
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        if description:
            self.lastrowid = self.rowcount = -1
            self._rows = deque(rows)
        else:
            self.lastrowid = lastrowid
            self.rowcount = rowcount

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        driver = cast(aiosqlite.Connection, self._connection)
        try:
            rowcount = self.await_(
                driver._execute(_run_many, driver._conn, operation, seq_of_parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = None
        self.lastrowid = -1
        self.rowcount = rowcount


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:  # rows fetched as they are read: the stock cursor
            return super().cursor(server_side=True)
        return OneHopCursor(self)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*args, **kwargs)
        if type(adapted) is AsyncAdapt_aiosqlite_connection:
            adapted.__class__ = OneHopConnection
        return adapted


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
