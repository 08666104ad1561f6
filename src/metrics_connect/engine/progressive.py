"""Widgets answered as their facts arrive, while other fetches still wait on the network.

A request that fetches reads each (dataset, variant) as soon as its last fetch has ended
(engine/service.py). Each widget is rendered as soon as every (dataset, variant) it reads
has been read, on the event loop's time between upstream responses, instead of all 87
after the last fetch: the request's tail after the network is then the widgets of the
last datasets only. The answer is the one `answer_widgets` gives on the whole read: a
(dataset, variant), once read, is complete (its fetches ended, their failures known),
and every widget reads only its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from metrics_connect.engine.aggregate import Aggregator, Facts
from metrics_connect.engine.facts import FactKey, FactSnapshot, PeriodKey
from metrics_connect.engine.model import ResolvedWidget, WidgetError
from metrics_connect.engine.notes import notes_of
from metrics_connect.engine.widget_body import render_one


class ProgressiveAnswer:
    """One request's widgets, rendered as the reads of their facts complete."""

    def __init__(
        self,
        widgets: list[ResolvedWidget],
        today: date,
        period: tuple[date, date],
        comparison: tuple[date, date] | None,
    ) -> None:
        self.widgets = widgets
        self.facts = Facts(today=today, coverage={})
        # One pair for the request: what they memoise comes from complete reads only.
        self.current = Aggregator(self.facts, *period)
        self.previous = Aggregator(self.facts, *comparison) if comparison is not None else None
        self.read: set[FactKey] = set()
        self.bodies: dict[int, dict[str, Any]] = {}
        self.waiting: dict[int, frozenset[FactKey]] = {}
        for index, widget in enumerate(widgets):
            if widget.error is not None:
                self.bodies[index] = widget.error.body()
            else:
                self.waiting[index] = frozenset((p.dataset, p.variant) for p in widget.sources())

    def fail(self, key: FactKey | PeriodKey, error: WidgetError) -> None:
        """A fetch of `key` failed: told before the key's read is added."""
        self.facts.failures[key] = error

    def add(self, keys: Iterable[FactKey], snapshot: FactSnapshot) -> None:
        """The read of `keys` (whatever of them the store holds) is in: render every
        widget that now has all it reads."""
        facts = self.facts
        assert facts.coverage is not None
        facts.rows.update(snapshot.rows)
        facts.objects.update(snapshot.objects)
        facts.records.update(snapshot.records)
        facts.periods.update({k: v.rows for k, v in snapshot.periods.items()})
        facts.coverage.update({k: set(v) for k, v in snapshot.coverage.items()})
        noted = notes_of(snapshot)
        facts.day_notes.update(noted["day_notes"])
        facts.period_notes.update(noted["period_notes"])
        self.read.update(keys)
        ready = [i for i, needed in self.waiting.items() if needed <= self.read]
        for index in ready:
            del self.waiting[index]
            self.bodies[index] = render_one(self.widgets[index], self.current, self.previous)

    def settle(self, failures: Mapping[FactKey | PeriodKey, WidgetError]) -> None:
        """The request's failures as reported once every fetch ended. A key whose chunks
        failed differently may have been told another of its errors first: its widgets
        are rendered again with the reported one."""
        told = self.facts.failures
        changed = {
            (key[0], key[1])
            for key, error in failures.items()
            if key not in told or _differs(told[key], error)
        }
        told.update(failures)
        if not changed:
            return
        for index, widget in enumerate(self.widgets):
            if (
                index in self.bodies
                and widget.error is None
                and any((p.dataset, p.variant) in changed for p in widget.sources())
            ):
                self.bodies[index] = render_one(widget, self.current, self.previous)

    def body(self) -> dict[str, Any]:
        """Every widget's body, keyed by widget id, in the request's order."""
        # A widget still waiting reads a key no read was for: what was read is all there
        # is of it, as in answer_widgets over the whole read.
        for index in list(self.waiting):
            del self.waiting[index]
            self.bodies[index] = render_one(self.widgets[index], self.current, self.previous)
        return {widget.id: self.bodies[i] for i, widget in enumerate(self.widgets)}


def _differs(first: WidgetError, second: WidgetError) -> bool:
    return (first.code, first.message) != (second.code, second.message)
