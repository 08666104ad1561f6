"""Widget notes: a widget whose facts are not exact says so beside its values.

Connectors put notes on what they return (FetchResult.notes: "approximate", "sampled",
"thresholded", "other_row"); the store keeps them per day and per period; a widget's
answer gains `"approximate": true` and `"notes": [...]` (sorted, every note of every
fact it read, in the period and the comparison period). A widget without notes keeps
its body as it was: no keys are added.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, TypedDict

from metrics_connect.engine.aggregate import Aggregator, Facts
from metrics_connect.engine.facts import FactKey, FactSnapshot, PeriodKey
from metrics_connect.engine.model import ResolvedWidget


class SnapshotNotes(TypedDict):
    day_notes: dict[FactKey, dict[date, frozenset[str]]]
    period_notes: dict[PeriodKey, frozenset[str]]


def notes_of(snapshot: FactSnapshot) -> SnapshotNotes:
    """The notes a store read holds, as Facts keeps them (only days and periods with notes)."""
    return {
        "day_notes": {
            key: noted
            for key, days in snapshot.coverage.items()
            if (noted := {d: c.notes for d, c in days.items() if c.notes})
        },
        "period_notes": {k: v.notes for k, v in snapshot.periods.items() if v.notes},
    }


def widget_notes(
    widget: ResolvedWidget, facts: Facts, periods: Iterable[tuple[date, date]]
) -> list[str]:
    """Every note of the facts the widget reads over the given periods, sorted."""
    found: set[str] = set()
    spans = list(periods)
    for plan in widget.sources():
        for start, end in spans:
            found |= facts.notes(plan, start, end)
    return sorted(found)


def with_notes(
    body: dict[str, Any],
    widget: ResolvedWidget,
    current: Aggregator,
    previous: Aggregator | None,
) -> dict[str, Any]:
    """The widget's body, with its notes when it has any (an error body stays as is)."""
    if "error" in body:
        return body
    periods = [(a.start, a.end) for a in (current, previous) if a is not None]
    notes = widget_notes(widget, current.facts, periods)
    if notes:
        body["approximate"] = True
        body["notes"] = notes
    return body
