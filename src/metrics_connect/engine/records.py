"""The records store: objects a network keeps and changes (deals, contacts, calls), synced
incrementally and aggregated at query time (docs/records.md).

- `sync` runs a connector's `fetch_records` from the stored cursor until it is current:
  each page's records are upserted by id (an edited record is one row with its latest
  values), its deleted ids are marked deleted (no figure counts them), and the cursor is
  stored after every page, so an interrupted sync resumes where it stopped. A first
  sync (no cursor) backfills. Every sync writes one line to the fact fetch log: that is
  the store's version, so cached answers that read the records are not reused past it.
- `state` says where each dataset's sync stands (the planner's freshness check).
- `load` reads a dataset's live records, with each date field as an instant and as the
  account's day (what metrics count and sum by).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from metrics_connect import clock
from metrics_connect.connectors.base import Connector, DatasetSpec, RecordRow
from metrics_connect.engine.days import account_today
from metrics_connect.engine.facts import FactStore, _write_lock
from metrics_connect.engine.numbers import number
from metrics_connect.engine.tables import fact_fetch_log, record_cursors, records

# The variant under which records datasets appear in fact keys, the fetch log and explain.
RECORDS_VARIANT = "records"
# The normalized field names that also fill the table's columns.
_DATE_COLUMNS = {"created_at": "created_at", "updated_at": "updated_at", "closed_at": "closed_at"}
_TEXT_COLUMNS = ("owner", "pipeline", "stage")
# A runaway connector (a cursor that never advances) stops here rather than loop forever.
MAX_PAGES_PER_SYNC = 10_000
# Decoded datasets kept per process (each valid for one store version).
MEMO_ENTRIES = 64


@dataclass(frozen=True)
class SyncState:
    cursor: str | None
    synced_at: datetime | None
    backfilled_at: datetime | None


@dataclass(frozen=True)
class StoredRecord:
    """A live record as the engine aggregates it: its fields, and each date field of the
    dataset as an instant (`stamps`, for durations) and as the account's day (`days`)."""

    id: str
    fields: dict[str, Any]
    stamps: dict[str, datetime]
    days: dict[str, date]


@dataclass(frozen=True)
class SyncResult:
    pages: int
    upserted: int
    deleted: int
    backfill: bool


def parse_instant(value: Any) -> datetime | None:
    """An instant as networks write them: ISO 8601 (a `Z`, an offset, or a bare date) or
    epoch milliseconds (HubSpot's search answers, Pipedrive's timestamps)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _columns(row: RecordRow) -> dict[str, Any]:
    fields = row.fields
    found: dict[str, Any] = {}
    for name, column in _DATE_COLUMNS.items():
        found[column] = parse_instant(fields.get(name))
    for name in _TEXT_COLUMNS:
        value = fields.get(name)
        found[name] = None if value in (None, "") else str(value)[:128]
    amount = number(fields.get("amount"))
    found["amount"] = None if amount is None else float(amount)
    currency = fields.get("currency")
    found["currency"] = None if currency in (None, "") else str(currency)[:8]
    return found


class RecordStore:
    """Records of every integration: upserts, deletions, cursors and reads."""

    def __init__(self, facts: FactStore) -> None:
        self.facts = facts
        self.db = facts.db
        # (integration, dataset, time zone) -> (store version, its decoded records).
        self._memo: dict[tuple[int, str, str], tuple[int, list[StoredRecord]]] = {}

    async def state(self, integration_id: int, datasets: Iterable[str]) -> dict[str, SyncState]:
        names = sorted(set(datasets))
        if not names:
            return {}
        query = select(record_cursors).where(
            record_cursors.c.integration_id == integration_id,
            record_cursors.c.dataset.in_(names),
        )
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {str(r.dataset): SyncState(r.cursor, r.synced_at, r.backfilled_at) for r in rows}

    async def sync(
        self,
        integration_id: int,
        connector: Connector,
        spec: DatasetSpec,
        *,
        timezone: str,
        origin: str = "engine",
        now: Callable[[], datetime] = clock.now,
    ) -> SyncResult:
        """Ask the connector from the stored cursor until it says it is current. `now`
        stamps the sync (the demo's replay passes the sandbox's clock)."""
        state = (await self.state(integration_id, [spec.name])).get(spec.name)
        cursor = state.cursor if state is not None else None
        backfill = state is None or state.backfilled_at is None
        pages = upserted = deleted = 0
        started = now()
        while True:
            page = await connector.fetch_records(spec.name, cursor)
            pages += 1
            stamp = now()
            async with _write_lock(self.db), self.db.engine.begin() as conn:
                name = spec.name
                upserted += await self._upsert(conn, integration_id, name, page.records, stamp)
                deleted += await self._delete(conn, integration_id, name, page.deleted_ids, stamp)
                if page.listed_all and not page.more:
                    deleted += await self._delete_unlisted(conn, integration_id, name, started)
                done = not page.more or pages >= MAX_PAGES_PER_SYNC
                await self._save_cursor(
                    conn,
                    integration_id,
                    spec.name,
                    page.cursor,
                    synced_at=stamp if done else None,
                    backfilled=done,
                )
                if done:
                    today = account_today(stamp, timezone)
                    await conn.execute(
                        insert(fact_fetch_log).values(
                            integration_id=integration_id,
                            dataset=spec.name,
                            variant=RECORDS_VARIANT,
                            start=today,
                            end=today,
                            fetched_at=started,
                            origin=origin,
                            rows=upserted,
                            objects=deleted,
                        )
                    )
            cursor = page.cursor
            if done:
                break
        self.facts._forget_version()
        return SyncResult(pages, upserted, deleted, backfill)

    async def _upsert(
        self,
        conn: AsyncConnection,
        integration_id: int,
        dataset: str,
        rows: Sequence[RecordRow],
        now: datetime,
    ) -> int:
        if not rows:
            return 0
        latest: dict[str, RecordRow] = {}
        for row in rows:
            latest[row.id] = row  # a page naming one record twice: its last version
        values = [
            {
                "integration_id": integration_id,
                "dataset": dataset,
                "record_id": record_id[:128],
                "deleted": False,
                "fields": json.dumps(row.fields, separators=(",", ":"), default=str),
                "synced_at": now,
                **_columns(row),
            }
            for record_id, row in latest.items()
        ]
        dialect_insert = sqlite_insert if self.db.is_sqlite else pg_insert
        statement = dialect_insert(records)
        changed = {
            name: statement.excluded[name]
            for name in (
                "created_at",
                "updated_at",
                "closed_at",
                "owner",
                "pipeline",
                "stage",
                "amount",
                "currency",
                "fields",
                "synced_at",
                # Listed as changed means live now (HubSpot restores archived deals).
                "deleted",
            )
        }
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["integration_id", "dataset", "record_id"], set_=changed
            ),
            values,
        )
        return len(values)

    async def _delete(
        self,
        conn: AsyncConnection,
        integration_id: int,
        dataset: str,
        ids: Sequence[str],
        now: datetime,
    ) -> int:
        if not ids:
            return 0
        where = and_(
            records.c.integration_id == integration_id,
            records.c.dataset == dataset,
            records.c.record_id.in_(sorted({i[:128] for i in ids})),
            records.c.deleted.is_(False),
        )
        gone = update(records).where(where).values(deleted=True, synced_at=now)
        result = await conn.execute(gone)
        return int(getattr(result, "rowcount", 0) or 0)

    async def _delete_unlisted(
        self, conn: AsyncConnection, integration_id: int, dataset: str, started: datetime
    ) -> int:
        """After a full listing: the live records this sync did not upsert are gone."""
        where = and_(
            records.c.integration_id == integration_id,
            records.c.dataset == dataset,
            records.c.deleted.is_(False),
            records.c.synced_at < started,
        )
        result = await conn.execute(update(records).where(where).values(deleted=True))
        return int(getattr(result, "rowcount", 0) or 0)

    async def _save_cursor(
        self,
        conn: AsyncConnection,
        integration_id: int,
        dataset: str,
        cursor: str | None,
        *,
        synced_at: datetime | None,
        backfilled: bool,
    ) -> None:
        dialect_insert = sqlite_insert if self.db.is_sqlite else pg_insert
        values: dict[str, Any] = {
            "integration_id": integration_id,
            "dataset": dataset,
            "cursor": cursor,
        }
        changed: dict[str, Any] = {"cursor": cursor}
        if synced_at is not None:
            values["synced_at"] = changed["synced_at"] = synced_at
        statement = dialect_insert(record_cursors).values(**values)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["integration_id", "dataset"], set_=changed
            )
        )
        if backfilled and synced_at is not None:
            await conn.execute(
                update(record_cursors)
                .where(
                    record_cursors.c.integration_id == integration_id,
                    record_cursors.c.dataset == dataset,
                    record_cursors.c.backfilled_at.is_(None),
                )
                .values(backfilled_at=synced_at)
            )

    async def load(
        self, integration_id: int, specs: Sequence[DatasetSpec], timezone: str
    ) -> dict[str, list[StoredRecord]]:
        """The live (not deleted) records of each dataset, by id. Decoded reads are kept
        per store version: dashboards asking other widgets of the same records between
        two syncs decode them once."""
        if not specs:
            return {}
        version = await self.facts.version()
        found: dict[str, list[StoredRecord]] = {}
        missing: list[DatasetSpec] = []
        for spec in specs:
            held = self._memo.get((integration_id, spec.name, timezone))
            if held is not None and held[0] == version:
                found[spec.name] = held[1]
            else:
                missing.append(spec)
        if missing:
            read = await self._read(integration_id, missing, timezone)
            for name, listed in read.items():
                self._memo[(integration_id, name, timezone)] = (version, listed)
                found[name] = listed
            while len(self._memo) > MEMO_ENTRIES:
                self._memo.pop(next(iter(self._memo)))
        return found

    async def _read(
        self, integration_id: int, specs: Sequence[DatasetSpec], timezone: str
    ) -> dict[str, list[StoredRecord]]:
        by_name = {spec.name: spec for spec in specs}
        query = select(records.c.dataset, records.c.record_id, records.c.fields).where(
            records.c.integration_id == integration_id,
            records.c.dataset.in_(sorted(by_name)),
            records.c.deleted.is_(False),
        )
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        zone = _zone(timezone)
        found: dict[str, list[StoredRecord]] = {name: [] for name in by_name}
        for dataset, record_id, text in rows:
            spec = by_name[str(dataset)]
            fields = json.loads(text)
            stamps: dict[str, datetime] = {}
            days: dict[str, date] = {}
            for name in spec.record_dates:
                instant = parse_instant(fields.get(name))
                if instant is not None:
                    stamps[name] = instant
                    days[name] = instant.astimezone(zone).date()
            found[str(dataset)].append(StoredRecord(str(record_id), fields, stamps, days))
        for listed in found.values():
            listed.sort(key=lambda r: r.id)
        return found


@dataclass(frozen=True)
class RecordsFetch:
    """A records dataset the request syncs before it reads: never synced ("missing":
    the first sync backfills) or synced longer ago than its `fresh_seconds` ("stale")."""

    dataset: str
    reason: str
    cursor: str | None


def plan_records(
    datasets: Iterable[str],
    states: dict[str, SyncState],
    specs: dict[str, DatasetSpec],
    now: datetime,
) -> tuple[list[RecordsFetch], datetime | None]:
    """The syncs a request needs, and until when reading without one holds (None:
    nothing is read that could go stale)."""
    fetches: list[RecordsFetch] = []
    valid_until: datetime | None = None
    for name in sorted(set(datasets)):
        state = states.get(name)
        if state is None or state.synced_at is None:
            fetches.append(
                RecordsFetch(name, "missing", state.cursor if state is not None else None)
            )
            continue
        fresh_until = state.synced_at + timedelta(seconds=specs[name].fresh_seconds)
        if fresh_until < now:
            fetches.append(RecordsFetch(name, "stale", state.cursor))
        elif valid_until is None or fresh_until < valid_until:
            valid_until = fresh_until
    return fetches, valid_until
