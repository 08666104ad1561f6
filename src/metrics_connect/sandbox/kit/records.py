"""Records that change over an emulator's clock, for the emulators of records networks
(CRMs, e-mail tools, call trackers, shops: docs/records.md).

A `TimedRecord` is a list of timed field changes (created, moved to a stage, edited,
won, merged away, archived); `state(at)` is what the network holds at `at`: every change
made by then, its modified field at the last of them. A `RecordBook` keeps each object
type's records in creation order and answers what a listing or a "modified since"
search sees at an instant (live or archived), remembering the last few instants asked.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

Fields = dict[str, Any]
V = TypeVar("V")


def iso_ms(at: datetime) -> str:
    """An instant in UTC with milliseconds and a Z, as most JSON APIs write them."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def poisson(uniform: float, mean: float, cap: int = 50) -> int:
    """Inverse-CDF Poisson draw from one uniform number (a day's count of new records),
    at most `cap`."""
    count, term = 0, math.exp(-mean)
    total = term
    while uniform > total and count < cap:
        count += 1
        term *= mean / count
        total += term
    return count


@dataclass
class TimedRecord:
    id: str
    object: str
    created: datetime
    # The fields naming its creation and last modification (HubSpot: createdate and
    # hs_lastmodifieddate; contacts lastmodifieddate).
    created_field: str
    modified_field: str
    id_field: str = "id"
    changes: list[tuple[datetime, Fields]] = field(default_factory=list)
    archived_at: datetime | None = None
    merged_at: datetime | None = None  # merged into another: gone, not archived
    _timeline: tuple[list[datetime], list[Fields]] | None = field(default=None, repr=False)

    def change(self, at: datetime, fields: Fields) -> None:
        self.changes.append((at, fields))
        self._timeline = None

    def base(self) -> Fields:
        created = iso_ms(self.created)
        return {self.id_field: self.id, self.created_field: created, self.modified_field: created}

    def timeline(self) -> tuple[list[datetime], list[Fields]]:
        """The instants of its changes and its fields after each (built once)."""
        if self._timeline is None:
            self.changes.sort(key=lambda change: change[0])
            times: list[datetime] = []
            states: list[Fields] = []
            fields = self.base()
            for when, delta in self.changes:
                fields = {**fields, **delta, self.modified_field: iso_ms(max(when, self.created))}
                times.append(when)
                states.append(fields)
            self._timeline = (times, states)
        return self._timeline

    def state(self, at: datetime) -> Fields | None:
        """Its fields at `at` (None: not created yet, or merged away); shared: read only."""
        if self.created > at or (self.merged_at is not None and self.merged_at <= at):
            return None
        times, states = self.timeline()
        index = bisect.bisect_right(times, at) - 1
        return states[index] if index >= 0 else self.base()

    def modified(self, at: datetime) -> datetime:
        times = self.timeline()[0]
        index = bisect.bisect_right(times, at) - 1
        return max(self.created, times[index]) if index >= 0 else self.created

    def archived(self, at: datetime) -> bool:
        return self.archived_at is not None and self.archived_at <= at


class RecordBook:
    """Every object type's records, in creation order once `seal` has run."""

    def __init__(self, objects: tuple[str, ...]) -> None:
        self.records: dict[str, list[TimedRecord]] = {name: [] for name in objects}
        self._states: dict[tuple[str, datetime], list[tuple[TimedRecord, Fields]]] = {}

    def seal(self) -> None:
        for listed in self.records.values():
            listed.sort(key=lambda r: r.created)
        self._states.clear()

    def state(self, name: str, at: datetime) -> list[tuple[TimedRecord, Fields]]:
        """Every record existing at `at` (archived ones included) with its fields."""
        key = (name, at)
        found = self._states.get(key)
        if found is None:
            found = []
            for record in self.records[name]:
                if record.created > at:
                    break
                fields = record.state(at)
                if fields is not None:
                    found.append((record, fields))
            if len(self._states) > 32:
                self._states.clear()
            self._states[key] = found
        return found

    def live(self, name: str, at: datetime) -> list[tuple[TimedRecord, Fields]]:
        return [(r, f) for r, f in self.state(name, at) if not r.archived(at)]

    def archived(self, name: str, at: datetime) -> list[tuple[TimedRecord, Fields]]:
        return [(r, f) for r, f in self.state(name, at) if r.archived(at)]

    def modified_since(
        self, name: str, since: datetime, at: datetime
    ) -> list[tuple[TimedRecord, Fields]]:
        """The live records last modified in [since, at], found from the change instants
        alone: a "modified since" search's candidates (a replay's hot path)."""
        found = []
        for record in self.records[name]:
            if record.created > at:
                break
            if record.modified(at) < since or record.archived(at):
                continue
            fields = record.state(at)
            if fields is not None:
                found.append((record, fields))
        return found

    def forget(self) -> None:
        """Drop the remembered instants (after a record was changed by hand)."""
        self._states.clear()


class Listings(Generic[V]):
    """Listings kept by their query and the clock's instant: a listing's next pages reuse
    its matches while the clock stands (beyond `size` queries, all are forgotten)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.kept: dict[Hashable, V] = {}

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        found = self.kept.get(key)
        if found is None:
            found = make()
            if len(self.kept) > self.size:
                self.kept.clear()
            self.kept[key] = found
        return found

    def clear(self) -> None:
        self.kept.clear()
