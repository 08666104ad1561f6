"""How what fetches returned replaces the fact store's days (FactStore.store_many).

Each fetch becomes a `DaysWrite`: the days it speaks for (the days the network still
serves, plus any day it carries rows or objects for), whose rows it replaces, the
objects it lists, and the coverage of those days. Days outside the network's live window
are only added to: the archive is never wiped by a network that forgot them.

SQLite writes each fetch with a few statements (`store_days`). PostgreSQL writes all the
fetches of one transaction at once (`write_days`), each table with one statement whose
rows travel as one JSON document: a sync run's snapshots, windows and stories cost a
handful of round trips instead of six per fetch, and the worker's CPU does not grow
with the rows (PostgreSQL unpacks them). A day whose rows are the same as those stored
(the weekly 30-day windows repeat 23 settled days) is left untouched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, text
from sqlalchemy.ext.asyncio import AsyncConnection

from metrics_connect.connectors.base import DatasetSpec, FetchRequest, FetchResult, ObjectRow, Row
from metrics_connect.db.base import UTCDateTime
from metrics_connect.engine.days import days_between, is_settled, live_since
from metrics_connect.engine.tables import fact_coverage, fact_objects, fact_rows


@dataclass(frozen=True)
class Fetched:
    """One fetch to keep: what was asked and what came back."""

    spec: DatasetSpec
    request: FetchRequest
    result: FetchResult


@dataclass
class DaysWrite:
    """What keeping one fetch of a daily or objects dataset changes."""

    dataset: str
    variant: str
    # Days whose rows are replaced by `rows` (empty: rows are left alone).
    row_days: list[date] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    objects: list[ObjectRow] = field(default_factory=list)
    # Served days of a dataset listing every object: stored objects not listed are gone.
    listed_days: list[date] = field(default_factory=list)
    # (day, settled, notes JSON) of each day now covered.
    coverage: list[tuple[date, bool, str | None]] = field(default_factory=list)


def dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def notes_json(notes: Iterable[str]) -> str | None:
    """A notes column: a sorted JSON array, NULL when the numbers are exact."""
    found = sorted(set(notes))
    return dump(found) if found else None


def plan_write(fetched: Fetched, variant: str, today: date) -> DaysWrite | None:
    """The days one fetch replaces (None: none)."""
    spec, request, result = fetched.spec, fetched.request, fetched.result
    oldest = live_since(spec, today)
    start = request.start if oldest is None else max(request.start, oldest)
    end = min(request.end, today)
    served = set(days_between(start, end)) if start <= end else set()
    row_days = {r.day for r in result.rows if r.day is not None}
    object_days = {o.day for o in result.objects}
    replaced = served | row_days | object_days
    if not replaced:
        return None
    write = DaysWrite(spec.name, variant)
    if result.rows or spec.kind != "objects":
        write.row_days = sorted(replaced)
        write.rows = [r for r in result.rows if r.day is not None]
    if spec.kind == "objects":
        write.objects = list(result.objects)
        if spec.live_days is None:
            write.listed_days = sorted(served)
    write.coverage = [
        (
            d,
            d not in result.incomplete_days and is_settled(spec, d, today),
            notes_json(result.notes_of(d)),
        )
        for d in sorted(replaced)
        if d <= today
    ]
    return write


# --- SQLite: a fetch at a time ---------------------------------------------------------


async def store_days(
    conn: AsyncConnection, integration_id: int, write: DaysWrite, fetched_at: datetime
) -> None:
    same = {"integration_id": integration_id, "dataset": write.dataset, "variant": write.variant}
    if write.row_days:
        await conn.execute(
            delete(fact_rows).where(
                fact_rows.c.integration_id == integration_id,
                fact_rows.c.dataset == write.dataset,
                fact_rows.c.variant == write.variant,
                fact_rows.c.day.in_(write.row_days),
            )
        )
        if write.rows:
            await conn.execute(
                insert(fact_rows),
                [
                    {**same, "day": r.day, "keys": dump(r.keys), "vals": dump(r.values)}
                    for r in write.rows
                ],
            )
    ids = [o.id for o in write.objects]
    conditions = [fact_objects.c.object_id.in_(ids)] if ids else []
    if write.listed_days:
        conditions.append(fact_objects.c.day.in_(write.listed_days))
    if conditions:
        await conn.execute(
            delete(fact_objects).where(
                fact_objects.c.integration_id == integration_id,
                fact_objects.c.dataset == write.dataset,
                fact_objects.c.variant == write.variant,
                or_(*conditions),
            )
        )
    if write.objects:
        await conn.execute(
            insert(fact_objects),
            [
                {
                    **same,
                    "object_id": o.id,
                    "day": o.day,
                    "attributes": dump(o.attributes),
                    "vals": dump(o.values),
                    "fetched_at": fetched_at,
                }
                for o in write.objects
            ],
        )
    if not write.coverage:
        return
    await conn.execute(
        delete(fact_coverage).where(
            fact_coverage.c.integration_id == integration_id,
            fact_coverage.c.dataset == write.dataset,
            fact_coverage.c.variant == write.variant,
            fact_coverage.c.day.in_([d for d, _, _ in write.coverage]),
        )
    )
    await conn.execute(
        insert(fact_coverage),
        [
            {**same, "day": d, "fetched_at": fetched_at, "settled": settled, "notes": notes}
            for d, settled, notes in write.coverage
        ],
    )


# --- PostgreSQL: every fetch of the transaction at once -------------------------------

_LOCKS = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM "
    "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS ordered"
)

# Per (dataset, variant, day) asked: the day's stored rows and incoming rows, each as
# one ordered text; days where they differ are deleted and written again, in the
# incoming order.
_ROWS = text(
    """
WITH targets AS (
    SELECT * FROM json_to_recordset(CAST(:targets AS json))
        AS t(dataset text, variant text, day date)
), incoming AS (
    SELECT * FROM json_to_recordset(CAST(:rows AS json))
        AS n(dataset text, variant text, day date, keys text, vals text, ord integer)
), incoming_days AS (
    SELECT dataset, variant, day,
           string_agg(keys || chr(31) || vals, chr(30) ORDER BY keys, vals) AS content
    FROM incoming GROUP BY dataset, variant, day
), stored_days AS (
    SELECT f.dataset, f.variant, f.day,
           string_agg(f.keys || chr(31) || f.vals, chr(30) ORDER BY f.keys, f.vals) AS content
    FROM fact_rows f
    JOIN targets t ON f.dataset = t.dataset AND f.variant = t.variant AND f.day = t.day
    WHERE f.integration_id = :integration_id
    GROUP BY f.dataset, f.variant, f.day
), changed AS (
    SELECT t.dataset, t.variant, t.day FROM targets t
    LEFT JOIN incoming_days i
        ON i.dataset = t.dataset AND i.variant = t.variant AND i.day = t.day
    LEFT JOIN stored_days s
        ON s.dataset = t.dataset AND s.variant = t.variant AND s.day = t.day
    WHERE i.content IS DISTINCT FROM s.content
), removed AS (
    DELETE FROM fact_rows f USING changed c
    WHERE f.integration_id = :integration_id
      AND f.dataset = c.dataset AND f.variant = c.variant AND f.day = c.day
)
INSERT INTO fact_rows (integration_id, dataset, variant, day, keys, vals)
SELECT :integration_id, i.dataset, i.variant, i.day, i.keys, i.vals
FROM incoming i
JOIN changed c ON c.dataset = i.dataset AND c.variant = i.variant AND c.day = i.day
ORDER BY i.ord
"""
)

_UNLISTED_OBJECTS = text(
    """
DELETE FROM fact_objects f
USING json_to_recordset(CAST(:days AS json)) AS d(dataset text, variant text, day date)
WHERE f.integration_id = :integration_id
  AND f.dataset = d.dataset AND f.variant = d.variant AND f.day = d.day
  AND NOT EXISTS (
    SELECT 1 FROM json_to_recordset(CAST(:objects AS json))
        AS o(dataset text, variant text, object_id text)
    WHERE o.dataset = f.dataset AND o.variant = f.variant AND o.object_id = f.object_id
  )
"""
)

_OBJECTS = text(
    """
INSERT INTO fact_objects
    (integration_id, dataset, variant, object_id, day, attributes, vals, fetched_at)
SELECT :integration_id, o.dataset, o.variant, o.object_id, o.day, o.attributes, o.vals,
       :fetched_at
FROM json_to_recordset(CAST(:objects AS json)) AS o(
    dataset text, variant text, object_id text, day date, attributes text, vals text,
    ord integer
)
ORDER BY o.ord
ON CONFLICT ON CONSTRAINT uq_fact_objects DO UPDATE SET
    day = excluded.day, attributes = excluded.attributes, vals = excluded.vals,
    fetched_at = excluded.fetched_at
"""
).bindparams(bindparam("fetched_at", type_=UTCDateTime()))

_COVERAGE = text(
    """
INSERT INTO fact_coverage (integration_id, dataset, variant, day, fetched_at, settled, notes)
SELECT :integration_id, c.dataset, c.variant, c.day, :fetched_at, c.settled, c.notes
FROM json_to_recordset(CAST(:coverage AS json))
    AS c(dataset text, variant text, day date, settled boolean, notes text)
ON CONFLICT ON CONSTRAINT pk_fact_coverage DO UPDATE SET
    fetched_at = excluded.fetched_at, settled = excluded.settled, notes = excluded.notes
"""
).bindparams(bindparam("fetched_at", type_=UTCDateTime()))


async def lock_in_order(conn: AsyncConnection, keys: Sequence[int]) -> None:
    """Take the transaction's advisory locks in one statement, smallest key first (two
    writers wanting the same keys cannot hold one each and wait for the other)."""
    await conn.execute(_LOCKS, {"keys": sorted(keys)})


async def write_days(
    conn: AsyncConnection, integration_id: int, writes: Sequence[DaysWrite], fetched_at: datetime
) -> None:
    """The writes in order, as if each replaced the days of the ones before: merged per
    day, object and covered day (the later wins), then one statement per table."""
    rows: dict[tuple[str, str, date], list[Row]] = {}
    objects: dict[tuple[str, str, str], ObjectRow] = {}
    listed: set[tuple[str, str, date]] = set()
    coverage: dict[tuple[str, str, date], tuple[bool, str | None]] = {}
    for w in writes:
        for day in w.row_days:
            rows[(w.dataset, w.variant, day)] = []
        for r in w.rows:
            assert r.day is not None
            rows[(w.dataset, w.variant, r.day)].append(r)
        if w.listed_days:
            days = set(w.listed_days)
            ids = {o.id for o in w.objects}
            for key in [
                k
                for k, o in objects.items()
                if k[:2] == (w.dataset, w.variant) and o.day in days and o.id not in ids
            ]:
                del objects[key]
            listed.update((w.dataset, w.variant, d) for d in w.listed_days)
        for o in w.objects:
            objects[(w.dataset, w.variant, o.id)] = o
        for day, settled, notes in w.coverage:
            coverage[(w.dataset, w.variant, day)] = (settled, notes)
    same = {"integration_id": integration_id}
    if rows:
        incoming = [
            {
                "dataset": d,
                "variant": v,
                "day": day.isoformat(),
                "keys": dump(r.keys),
                "vals": dump(r.values),
                "ord": 0,
            }
            for (d, v, day), day_rows in rows.items()
            for r in day_rows
        ]
        for ord_, entry in enumerate(incoming):
            entry["ord"] = ord_
        targets = [{"dataset": d, "variant": v, "day": day.isoformat()} for d, v, day in rows]
        await conn.execute(_ROWS, {**same, "targets": dump(targets), "rows": dump(incoming)})
    listed_objects = [
        {
            "dataset": d,
            "variant": v,
            "object_id": o.id,
            "day": o.day.isoformat(),
            "attributes": dump(o.attributes),
            "vals": dump(o.values),
            "ord": ord_,
        }
        for ord_, ((d, v, _), o) in enumerate(objects.items())
    ]
    if listed:
        unlisted = [{"dataset": d, "variant": v, "day": day.isoformat()} for d, v, day in listed]
        await conn.execute(
            _UNLISTED_OBJECTS, {**same, "days": dump(unlisted), "objects": dump(listed_objects)}
        )
    if listed_objects:
        await conn.execute(
            _OBJECTS, {**same, "objects": dump(listed_objects), "fetched_at": fetched_at}
        )
    if coverage:
        covered = [
            {"dataset": d, "variant": v, "day": day.isoformat(), "settled": s, "notes": n}
            for (d, v, day), (s, n) in coverage.items()
        ]
        await conn.execute(_COVERAGE, {**same, "coverage": dump(covered), "fetched_at": fetched_at})
