"""The fact store: normalized rows per integration and dataset, and what was fetched when.

Both the engine (after each upstream fetch) and the sync (archiving what the network
forgets: stories, snapshots, days leaving a live window) write through `FactStore.store`.
Reads are a handful of Core selects per request (`FactStore.load`), never ORM objects.

Replacement rule of `store`: the days of the request that the network still serves (its
live window, `DatasetSpec.live_days`) are replaced by the result; days outside that window
are only added to (the archive is never wiped by a network that forgot them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import (
    DatasetSpec,
    FetchRequest,
    FetchResult,
    ObjectRow,
    Row,
)
from metrics_connect.db.engine import Database
from metrics_connect.engine.days import account_today, is_settled
from metrics_connect.engine.fact_writes import (
    Fetched,
    dump,
    lock_in_order,
    notes_json,
    plan_write,
    store_days,
    write_days,
)
from metrics_connect.engine.numbers import number
from metrics_connect.engine.tables import (
    fact_coverage,
    fact_fetch_log,
    fact_objects,
    fact_periods,
    fact_rows,
)
from metrics_connect.networks.registry import days_timezone

if TYPE_CHECKING:
    from metrics_connect.engine.records import StoredRecord

FactKey = tuple[str, str]  # (dataset, variant)
PeriodKey = tuple[str, str, date, date]  # (dataset, variant, start, end)
# Day keys that only `last` aggregations read, with the fields they read (see load).
LastReads = Mapping[FactKey, Iterable[str]]


def variant_key(request: FetchRequest) -> str:
    """The canonical key of a fetch's breakdowns, filters and options (not its days)."""
    parts: dict[str, Any] = {}
    if request.breakdowns:
        parts["b"] = sorted(request.breakdowns)
    if request.filters:
        parts["f"] = sorted(
            [f.field, f.operator, json.dumps(f.value, sort_keys=True, default=str)]
            for f in request.filters
        )
    if request.options:
        parts["o"] = sorted([k, v] for k, v in request.options)
    if not parts:
        return "-"
    text = json.dumps(parts, separators=(",", ":"), sort_keys=True)
    if len(text) > 200:
        return "h:" + hashlib.sha256(text.encode()).hexdigest()
    return text


@dataclass(frozen=True)
class Coverage:
    fetched_at: datetime
    settled: bool
    # What the connector said about the day's numbers (FetchResult.notes): "sampled"...
    notes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StoredPeriod:
    rows: list[Row]
    fetched_at: datetime
    settled: bool
    notes: frozenset[str] = frozenset()


@dataclass
class FactSnapshot:
    """What the store holds for one request's needs."""

    coverage: dict[FactKey, dict[date, Coverage]] = field(default_factory=dict)
    rows: dict[FactKey, list[Row]] = field(default_factory=dict)
    objects: dict[FactKey, list[ObjectRow]] = field(default_factory=dict)
    periods: dict[PeriodKey, StoredPeriod] = field(default_factory=dict)
    # The store's version when read (see FactStore.version).
    version: int = 0
    # Records datasets' live records, by dataset (engine/records.py).
    records: dict[str, list[StoredRecord]] = field(default_factory=dict)


def _lock_key(integration_id: int, dataset: str, variant: str) -> int:
    digest = hashlib.sha256(f"{integration_id}|{dataset}|{variant}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _rows_json(rows: list[Row]) -> str:
    return dump([[r.keys, r.values] for r in rows])


def _parse_notes(value: str | None) -> frozenset[str]:
    return frozenset(json.loads(value)) if value else frozenset()


LoadKey = tuple[Any, ...]
_WRITE_LOCKS: weakref.WeakKeyDictionary[Database, asyncio.Lock] = weakref.WeakKeyDictionary()


def _write_lock(db: Database) -> asyncio.Lock | contextlib.nullcontext[None]:
    """SQLite has one writer: this process's stores queue here, not in SQLite's busy
    timeout (a CPU-busy event loop could otherwise starve a lock holder past it)."""
    if not db.is_sqlite:
        return contextlib.nullcontext()
    lock = _WRITE_LOCKS.get(db)
    if lock is None:
        lock = asyncio.Lock()
        _WRITE_LOCKS[db] = lock
    return lock


CACHE_ENTRIES = 256
VERSION_TTL_SECONDS = 0.5
_VERSION_QUERY = select(func.max(fact_fetch_log.c.id))


class FactStore:
    """Writes and reads facts; decoded reads are memoised per store version.

    The version is the newest fetch-log id (every `store` writes one): one select by
    primary key tells whether anything was stored since a cached read, in any process.
    It is re-read at most every VERSION_TTL_SECONDS, and at once after a store made by
    this process: writes of other processes are seen within that delay.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: OrderedDict[LoadKey, tuple[int, FactSnapshot]] = OrderedDict()
        self._version: tuple[int, float] | None = None
        self._version_read: asyncio.Future[int] | None = None
        self._stores = 0  # stores made by this process: a read begun before one is stale

    async def version(self, conn: AsyncConnection | None = None) -> int:
        seen = self._version
        if seen is not None and time.monotonic() - seen[1] < VERSION_TTL_SECONDS:
            return seen[0]
        if conn is not None:
            return self._remember_version(await conn.scalar(_VERSION_QUERY))
        # One read at a time: the requests that find the version stale while it is
        # being read wait for that read. Each reading on its own took a connection
        # apiece, every half second: 16 requests at once overflowed the PostgreSQL
        # pool, which opened and closed connections (a server process each) to serve
        # them. Shielded: a waiter cancelled does not cancel the others' read.
        read = self._version_read
        if read is None or read.done():
            read = self._version_read = asyncio.ensure_future(self._read_version())
        return await asyncio.shield(read)

    async def _read_version(self) -> int:
        stores = self._stores
        async with self.db.engine.connect() as own:
            value = await own.scalar(_VERSION_QUERY)
        if stores != self._stores:
            return int(value or 0)  # this process stored meanwhile: not kept
        return self._remember_version(value)

    def _forget_version(self) -> None:
        """After a store of this process: the next version() reads afresh, neither the
        remembered version nor a read begun before the store."""
        self._stores += 1
        self._version = None
        self._version_read = None

    def _remember_version(self, value: int | None) -> int:
        version = int(value or 0)
        self._version = (version, time.monotonic())
        return version

    def forget_reads(self) -> None:
        """Drop the memoised reads: the next loads read the database (benchmarks)."""
        self._cache.clear()

    async def _timezone(self, conn: AsyncConnection, integration_id: int) -> str:
        table = CustomerIntegration.__table__
        row = (
            await conn.execute(
                select(table.c.slug, table.c.timezone).where(table.c.id == integration_id)
            )
        ).first()
        if row is None:
            return "UTC"
        return days_timezone(str(row.slug), str(row.timezone or "UTC"))

    async def store(
        self,
        integration_id: int,
        spec: DatasetSpec,
        request: FetchRequest,
        result: FetchResult,
        *,
        fetched_at: datetime,
        timezone: str | None = None,
        origin: str = "sync",
    ) -> None:
        """Keep what a fetch returned. Snapshots and stories arrive here from the sync."""
        await self.store_many(
            integration_id,
            [Fetched(spec, request, result)],
            fetched_at=fetched_at,
            timezone=timezone,
            origin=origin,
        )

    async def store_many(
        self,
        integration_id: int,
        fetches: Sequence[Fetched],
        *,
        fetched_at: datetime,
        timezone: str | None = None,
        origin: str = "sync",
    ) -> None:
        """Keep what several fetches of one integration returned, in one transaction (a
        sync run's writes). On PostgreSQL a handful of statements whatever the number of
        fetches and rows (engine/fact_writes.py); days whose rows are the same as stored
        are left as they are."""
        if not fetches:
            return
        self._forget_version()
        async with _write_lock(self.db), self.db.engine.begin() as conn:
            if not self.db.is_sqlite:
                # Writers of one (integration, dataset, variant) take turns, in every
                # process: replacing days is a delete then an insert.
                keys = {
                    _lock_key(integration_id, f.spec.name, variant_key(f.request)) for f in fetches
                }
                await lock_in_order(conn, sorted(keys))
            tz = timezone or await self._timezone(conn, integration_id)
            today = account_today(fetched_at, tz)
            writes = [
                w
                for f in fetches
                if f.spec.kind != "period"
                and (w := plan_write(f, variant_key(f.request), today)) is not None
            ]
            for f in fetches:
                if f.spec.kind == "period":
                    await self._store_period(
                        conn,
                        integration_id,
                        f.spec,
                        f.request,
                        f.result,
                        variant_key(f.request),
                        today,
                        fetched_at,
                    )
            if self.db.is_sqlite:
                for write in writes:
                    await store_days(conn, integration_id, write, fetched_at)
            else:
                await write_days(conn, integration_id, writes, fetched_at)
            await conn.execute(
                insert(fact_fetch_log),
                [
                    {
                        "integration_id": integration_id,
                        "dataset": f.spec.name,
                        "variant": variant_key(f.request),
                        "start": f.request.start,
                        "end": f.request.end,
                        "fetched_at": fetched_at,
                        "origin": origin,
                        "rows": len(f.result.rows),
                        "objects": len(f.result.objects),
                    }
                    for f in fetches
                ],
            )
        self._forget_version()

    async def _store_period(
        self,
        conn: AsyncConnection,
        integration_id: int,
        spec: DatasetSpec,
        request: FetchRequest,
        result: FetchResult,
        variant: str,
        today: date,
        fetched_at: datetime,
    ) -> None:
        settled = is_settled(spec, request.end, today) and not result.incomplete_days
        where = and_(
            fact_periods.c.integration_id == integration_id,
            fact_periods.c.dataset == spec.name,
            fact_periods.c.variant == variant,
            fact_periods.c.start == request.start,
            fact_periods.c.end == request.end,
        )
        await conn.execute(delete(fact_periods).where(where))
        await conn.execute(
            insert(fact_periods).values(
                integration_id=integration_id,
                dataset=spec.name,
                variant=variant,
                start=request.start,
                end=request.end,
                rows=_rows_json(result.rows),
                fetched_at=fetched_at,
                settled=settled,
                notes=notes_json(result.all_notes()),
            )
        )

    async def load(
        self,
        integration_id: int,
        *,
        day_keys: Iterable[FactKey] = (),
        object_keys: Iterable[FactKey] = (),
        period_keys: Iterable[PeriodKey] = (),
        start: date,
        end: date,
        with_facts: bool = True,
        last_only: LastReads | None = None,
        periods: Iterable[tuple[date, date]] = (),
    ) -> FactSnapshot:
        """Coverage and facts of [start, end] for the given keys.

        `last_only`: day keys that only `last` aggregations read (of the given fields),
        grouped by anything but the day and without local filters. Of these, only the
        rows `_latest_of` keeps for each of `periods` are decoded: a stock metric over a
        365-day period reads one day, not 365.

        One select of the store's version, then (unless an identical read of the same
        version is cached) at most four selects. Callers must not mutate the result
        (rows with the same keys share one decoded dict).
        """
        day_keys = sorted(set(day_keys))
        object_keys = sorted(set(object_keys))
        period_keys = sorted(set(period_keys))
        latest = {
            key: frozenset(fields) for key, fields in (last_only or {}).items() if key in day_keys
        }
        spans = tuple(sorted(set(periods))) if latest else ()
        if not spans:
            latest = {}
        cache_key = (
            integration_id,
            tuple(day_keys),
            tuple(object_keys),
            tuple(period_keys),
            start,
            end,
            with_facts,
            tuple(sorted((k, tuple(sorted(f))) for k, f in latest.items())),
            spans,
        )
        version = await self.version()
        cached = self._cache.get(cache_key)
        if cached is not None and cached[0] == version:
            self._cache.move_to_end(cache_key)
            return cached[1]
        async with self.db.engine.connect() as conn:
            snapshot = await self._select(
                conn,
                integration_id,
                day_keys,
                object_keys,
                period_keys,
                start,
                end,
                with_facts,
                latest,
                spans,
            )
        snapshot.version = version
        self._cache[cache_key] = (version, snapshot)
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return snapshot

    async def _select(
        self,
        conn: AsyncConnection,
        integration_id: int,
        day_keys: list[FactKey],
        object_keys: list[FactKey],
        period_keys: list[PeriodKey],
        start: date,
        end: date,
        with_facts: bool,
        latest: Mapping[FactKey, frozenset[str]],
        spans: Sequence[tuple[date, date]],
    ) -> FactSnapshot:
        snapshot = FactSnapshot()
        # Days and times as the driver returns them, parsed once per distinct value: the
        # column types' per-row parsing cost more than the rest of the read.
        read_day = _memo_reader(_as_date)
        read_time = _memo_reader(_as_utc)
        read_notes = _memo_reader(_parse_notes)
        all_keys = day_keys + object_keys
        if all_keys:
            result = await conn.execute(
                select(
                    fact_coverage.c.dataset,
                    fact_coverage.c.variant,
                    type_coerce(fact_coverage.c.day, String),
                    type_coerce(fact_coverage.c.fetched_at, String),
                    fact_coverage.c.settled,
                    fact_coverage.c.notes,
                ).where(
                    fact_coverage.c.integration_id == integration_id,
                    _of_keys(fact_coverage, all_keys),
                    fact_coverage.c.day.between(start, end),
                )
            )
            for dataset, variant, day, fetched_at, settled, notes in result:
                snapshot.coverage.setdefault((dataset, variant), {})[read_day(day)] = Coverage(
                    read_time(fetched_at), bool(settled), read_notes(notes)
                )
        every_day = [k for k in day_keys if k not in latest]
        if with_facts and every_day:
            result = await conn.execute(
                select(
                    fact_rows.c.dataset,
                    fact_rows.c.variant,
                    type_coerce(fact_rows.c.day, String),
                    fact_rows.c["keys"],
                    fact_rows.c.vals,
                ).where(
                    fact_rows.c.integration_id == integration_id,
                    _of_keys(fact_rows, every_day),
                    fact_rows.c.day.between(start, end),
                )
            )
            raw: dict[FactKey, list[RawRow]] = {}
            for dataset, variant, day, keys, vals in result:
                raw.setdefault((dataset, variant), []).append((read_day(day), keys, vals))
            for key, found in raw.items():
                snapshot.rows[key] = _decode_rows(found)
        if with_facts:
            for key in day_keys:
                if key in latest:
                    newest = await _latest_of(conn, integration_id, key, spans, latest[key])
                    if newest:
                        snapshot.rows[key] = _decode_rows(
                            [(read_day(day), keys, vals) for day, keys, vals in newest]
                        )
        if with_facts and object_keys:
            result = await conn.execute(
                select(
                    fact_objects.c.dataset,
                    fact_objects.c.variant,
                    fact_objects.c.object_id,
                    type_coerce(fact_objects.c.day, String),
                    fact_objects.c.attributes,
                    fact_objects.c.vals,
                ).where(
                    fact_objects.c.integration_id == integration_id,
                    _of_keys(fact_objects, object_keys),
                    fact_objects.c.day.between(start, end),
                )
            )
            listed = result.all()
            attributes = _loads_many([r[4] for r in listed])
            values = _loads_many([r[5] for r in listed])
            for (dataset, variant, object_id, day, _, _), attrs, vals in zip(
                listed, attributes, values, strict=True
            ):
                snapshot.objects.setdefault((dataset, variant), []).append(
                    ObjectRow(object_id, read_day(day), attrs, vals)
                )
        if period_keys:
            wanted = [
                and_(
                    fact_periods.c.dataset == d,
                    fact_periods.c.variant == v,
                    fact_periods.c.start == s,
                    fact_periods.c.end == e,
                )
                for d, v, s, e in period_keys
            ]
            result = await conn.execute(
                select(
                    fact_periods.c.dataset,
                    fact_periods.c.variant,
                    fact_periods.c.start,
                    fact_periods.c.end,
                    fact_periods.c.rows,
                    fact_periods.c.fetched_at,
                    fact_periods.c.settled,
                    fact_periods.c.notes,
                ).where(fact_periods.c.integration_id == integration_id, or_(*wanted))
            )
            for dataset, variant, p_start, p_end, rows, fetched_at, settled, notes in result:
                decoded = [Row(None, k, v) for k, v in json.loads(rows)] if with_facts else []
                snapshot.periods[(dataset, variant, p_start, p_end)] = StoredPeriod(
                    decoded, fetched_at, bool(settled), read_notes(notes)
                )
        return snapshot


RawRow = tuple[date, str, str]  # day, keys (JSON), values (JSON)


def _of_keys(table: Table, keys: Sequence[FactKey]) -> ColumnElement[bool]:
    """(dataset, variant) among `keys`, each column also IN its own values: with the pair
    alone SQLite searches the index by integration only, through every stored day of the
    integration rather than the days asked."""
    return and_(
        table.c.dataset.in_(sorted({dataset for dataset, _ in keys})),
        table.c.variant.in_(sorted({variant for _, variant in keys})),
        tuple_(table.c.dataset, table.c.variant).in_(keys),
    )


async def _latest_of(
    conn: AsyncConnection,
    integration_id: int,
    key: FactKey,
    periods: Sequence[tuple[date, date]],
    fields: frozenset[str],
) -> list[tuple[Any, str, str]]:
    """The rows a `last` aggregation of `fields` reads in each period, in stored order
    (day as the driver returns it, keys, values), selected by the database.

    Per period and per distinct keys, the rows of the latest day; when one of them lacks
    a numeric value of a field, every row of those keys in the period. That is exact for
    any grouping by keys (not by day): a group's last day with data is the latest of its
    keys' last days with data, and its rows that day are those of the keys whose last
    day it is, all kept here.

    Each keys' latest day is one seek of ix_fact_rows_latest, the distinct keys are
    walked through the same index (a seek per value): the work grows with the number of
    distinct keys, not with the days the archive holds (a GROUP BY read every stored
    day of the key).
    """
    dataset, variant = key
    same = and_(
        fact_rows.c.integration_id == integration_id,
        fact_rows.c.dataset == dataset,
        fact_rows.c.variant == variant,
    )
    columns = (
        fact_rows.c.id,
        type_coerce(fact_rows.c.day, String),
        fact_rows.c["keys"],
        fact_rows.c.vals,
    )
    chosen: dict[int, tuple[Any, str, str]] = {}
    for start, end in periods:
        latest = (
            await conn.execute(_latest_days(integration_id, dataset, variant, start, end))
        ).all()
        # Those rows: a seek per (keys, day) of the index, then the pairs kept exactly.
        pairs = {(keys, str(day)) for keys, day in latest}
        found: list[Any] = []
        if latest:
            candidates = await conn.execute(
                select(*columns).where(
                    same,
                    fact_rows.c["keys"].in_(sorted({keys for keys, _ in latest})),
                    fact_rows.c.day.in_(sorted({_as_date(day) for _, day in latest})),
                )
            )
            found = [row for row in candidates if (row[2], str(row[1])) in pairs]
        values = _loads_many([vals for _, _, _, vals in found])
        incomplete = {
            keys
            for (_, _, keys, _), vals in zip(found, values, strict=True)
            if any(number(vals.get(f)) is None for f in fields)
        }
        chosen.update((i, (day, keys, vals)) for i, day, keys, vals in found)
        if incomplete:
            rest = await conn.execute(
                select(*columns).where(
                    same,
                    fact_rows.c.day.between(start, end),
                    fact_rows.c["keys"].in_(sorted(incomplete)),
                )
            )
            chosen.update((i, (day, keys, vals)) for i, day, keys, vals in rest)
    return [chosen[i] for i in sorted(chosen)]


def _latest_days(
    integration_id: int, dataset: str, variant: str, start: date, end: date
) -> Select[tuple[str, Any]]:
    """(keys, day): each distinct keys of the (dataset, variant) and its latest day in
    [start, end] (keys without a row there are left out); the day as the driver returns
    it."""
    walked = fact_rows.alias("walked")
    seeked = fact_rows.alias("seeked")

    def same(table: Any) -> Any:
        return and_(
            table.c.integration_id == integration_id,
            table.c.dataset == dataset,
            table.c.variant == variant,
        )

    # The distinct keys, smallest first, each found by one index seek past the last.
    first = select(walked.c["keys"]).where(same(walked)).order_by(walked.c["keys"]).limit(1)
    distinct = select(first.scalar_subquery().label("k")).cte("distinct_keys", recursive=True)
    following = (
        select(walked.c["keys"])
        .where(same(walked), walked.c["keys"] > distinct.c.k)
        .order_by(walked.c["keys"])
        .limit(1)
        .scalar_subquery()
    )
    distinct = distinct.union_all(select(following).where(distinct.c.k.is_not(None)))
    latest_day = (
        select(func.max(seeked.c.day))
        .where(same(seeked), seeked.c["keys"] == distinct.c.k, seeked.c.day.between(start, end))
        .scalar_subquery()
    )
    per_keys = (
        select(distinct.c.k.label("k"), type_coerce(latest_day, String).label("d"))
        .where(distinct.c.k.is_not(None))
        .subquery()
    )
    return select(per_keys.c.k, per_keys.c.d).where(per_keys.c.d.is_not(None))


def _decode_rows(rows: Sequence[RawRow]) -> list[Row]:
    distinct = list(dict.fromkeys(keys for _, keys, _ in rows))
    decoded = dict(zip(distinct, _loads_many(distinct), strict=True))
    values = _loads_many([vals for _, _, vals in rows])
    return [
        Row(day, decoded[keys], vals) for (day, keys, _), vals in zip(rows, values, strict=True)
    ]


def _loads_many(texts: Sequence[str]) -> list[Any]:
    """Decode many small JSON documents in one call: per-call overhead dominates them."""
    if not texts:
        return []
    decoded = json.loads("[" + ",".join(texts) + "]")
    if not isinstance(decoded, list) or len(decoded) != len(texts):
        return [json.loads(t) for t in texts]  # a document that was not one value
    return decoded


def _as_date(value: Any) -> date:
    # SQLite returns the stored text, PostgreSQL a date.
    return date.fromisoformat(value) if isinstance(value, str) else value


def _as_utc(value: Any) -> datetime:
    """As UTCDateTime reads it: stored naive UTC, returned aware."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return when.replace(tzinfo=UTC)


def _memo_reader(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    seen: dict[Any, Any] = {}

    def read(value: Any) -> Any:
        found = seen.get(value)
        if found is None:
            found = seen[value] = parse(value)
        return found

    return read
