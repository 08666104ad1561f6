"""The sandbox kit's timed records: what a records network holds at each instant."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from metrics_connect.sandbox.kit.records import Listings, RecordBook, TimedRecord, iso_ms, poisson

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def record(book: RecordBook, n: int, created: datetime) -> TimedRecord:
    made = TimedRecord(str(n), "deals", created, "createdate", "updated")
    book.records["deals"].append(made)
    return made


def test_states_follow_the_changes_and_fates() -> None:
    book = RecordBook(("deals",))
    deal = record(book, 1, T0)
    deal.change(T0, {"stage": "new", "amount": 10})
    deal.change(T0 + 2 * HOUR, {"stage": "won"})
    deal.change(T0 + HOUR, {"amount": 12})  # out of order: sorted by instant
    merged = record(book, 2, T0 + HOUR)
    merged.merged_at = T0 + 3 * HOUR
    archived = record(book, 3, T0 + HOUR)
    archived.archived_at = T0 + 3 * HOUR
    book.seal()
    assert book.state("deals", T0 - HOUR) == []
    first = deal.state(T0 + HOUR)
    assert first is not None and (first["stage"], first["amount"]) == ("new", 12)
    assert first["updated"] == iso_ms(T0 + HOUR) and first["id"] == "1"
    later = T0 + 4 * HOUR
    assert [r.id for r, _ in book.live("deals", later)] == ["1"]
    assert [r.id for r, _ in book.archived("deals", later)] == ["3"]
    assert [
        r.id for r, _ in book.modified_since("deals", T0 + 90 * timedelta(minutes=1), later)
    ] == ["1"]
    assert deal.modified(later) == T0 + 2 * HOUR


def test_poisson_draws_average_their_mean() -> None:
    draws = [poisson((i + 0.5) / 1000, 2.5) for i in range(1000)]
    assert abs(sum(draws) / len(draws) - 2.5) < 0.05
    assert poisson(0.0, 3.0) == 0


def test_poisson_stops_at_its_cap() -> None:
    assert poisson(0.999999, 80.0) == 50
    assert poisson(0.999999, 80.0, cap=60) == 60
    assert poisson(0.0, 80.0, cap=60) == 0


def test_listings_are_kept_until_too_many() -> None:
    made: list[str] = []

    def make(name: str) -> list[str]:
        made.append(name)
        return []

    listings: Listings[list[str]] = Listings(size=2)
    assert listings.get(("a", T0), lambda: make("a")) == []
    listings.get(("a", T0), lambda: make("a"))  # kept, even empty
    assert made == ["a"]
    for name in "bcd":
        listings.get((name, T0), functools.partial(make, name))
    listings.get(("a", T0), lambda: make("a"))  # forgotten once more than 2 were kept
    assert made == ["a", "b", "c", "d", "a"]
    listings.clear()
    listings.get(("a", T0), lambda: make("a"))
    assert made[-2:] == ["a", "a"]
