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
from typing import Any

from metrics_connect.engine.aggregate import Facts
from metrics_connect.engine.model import ResolvedWidget


def widget_notes(
    widget: ResolvedWidget, facts: Facts, periods: Iterable[tuple[date, date] | None]
) -> list[str]:
    """Every note of the facts the widget reads over the given periods, sorted."""
    found: set[str] = set()
    spans = [p for p in periods if p is not None]
    for plan in widget.sources():
        for start, end in spans:
            found |= facts.notes(plan, start, end)
    return sorted(found)


def with_notes(
    body: dict[str, Any],
    widget: ResolvedWidget,
    facts: Facts,
    periods: Iterable[tuple[date, date] | None],
) -> dict[str, Any]:
    """The widget's body, with its notes when it has any (an error body stays as is)."""
    if "error" in body:
        return body
    notes = widget_notes(widget, facts, periods)
    if notes:
        body["approximate"] = True
        body["notes"] = notes
    return body
