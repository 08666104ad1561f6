"""The planner: merge every widget's needs, compare them with the store, list the fetches.

A need is a (dataset, variant) over days (daily, snapshot and object datasets) or over
an exact period (period datasets). A day is fetched when the network still serves it
(its live window) and the store lacks it, or holds it unsettled for longer than the
dataset's `fresh_seconds`. Missing runs of days are cut at the dataset's
`max_days_per_call`, so that chunks can be fetched concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from metrics_connect.connectors.base import DatasetSpec, FetchRequest
from metrics_connect.engine.facts import (
    FactKey,
    FactSnapshot,
    PeriodKey,
    days_between,
    live_since,
)
from metrics_connect.engine.model import SourcePlan


@dataclass
class Needs:
    """What a request reads, merged across widgets and periods."""

    days: dict[FactKey, set[date]] = field(default_factory=dict)
    periods: set[PeriodKey] = field(default_factory=set)
    templates: dict[FactKey, SourcePlan] = field(default_factory=dict)
    span: tuple[date, date] | None = None

    @property
    def day_keys(self) -> list[FactKey]:
        return [
            k for k, plan in self.templates.items() if plan.kind != "objects" and k in self.days
        ]

    @property
    def object_keys(self) -> list[FactKey]:
        return [
            k for k, plan in self.templates.items() if plan.kind == "objects" and k in self.days
        ]


def collect_needs(
    plans: Iterable[SourcePlan], periods: Iterable[tuple[date, date]], today: date
) -> Needs:
    needs = Needs()
    period_list = list(periods)
    low = min(s for s, _ in period_list)
    high = max(e for _, e in period_list)
    needs.span = (low, high)
    for plan in plans:
        key = (plan.dataset, plan.variant)
        if key in needs.templates:
            continue  # the same (dataset, variant) over the same periods: once
        needs.templates[key] = plan
        for start, end in period_list:
            if plan.kind == "period":
                needs.periods.add((plan.dataset, plan.variant, start, min(end, today)))
            else:
                wanted = needs.days.setdefault(key, set())
                wanted.update(days_between(start, min(end, today)) if start <= today else [])
    return needs


@dataclass(frozen=True)
class PlannedFetch:
    key: FactKey | PeriodKey
    request: FetchRequest
    reason: str  # "missing" | "stale"


def _runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _chunks(start: date, end: date, size: int | None) -> list[tuple[date, date]]:
    if not size:
        return [(start, end)]
    out = []
    cursor = start
    while cursor <= end:
        stop = min(end, cursor + timedelta(days=size - 1))
        out.append((cursor, stop))
        cursor = stop + timedelta(days=1)
    return out


def plan_fetches(
    needs: Needs,
    snapshot: FactSnapshot,
    specs: dict[str, DatasetSpec],
    *,
    now: datetime,
    today: date,
) -> list[PlannedFetch]:
    fetches: list[PlannedFetch] = []
    for key, wanted in needs.days.items():
        plan = needs.templates[key]
        spec = specs[plan.dataset]
        oldest = live_since(spec, today)
        coverage = snapshot.coverage.get(key, {})
        fresh_limit = now - timedelta(seconds=spec.fresh_seconds)
        todo: dict[date, str] = {}
        for day in wanted:
            if day > today or (oldest is not None and day < oldest):
                continue
            entry = coverage.get(day)
            if entry is None:
                todo[day] = "missing"
            elif not entry.settled and entry.fetched_at < fresh_limit:
                todo[day] = "stale"
        for run_start, run_end in _runs(list(todo)):
            for start, end in _chunks(run_start, run_end, spec.max_days_per_call):
                reason = (
                    "missing"
                    if "missing" in {todo[d] for d in days_between(start, end)}
                    else "stale"
                )
                fetches.append(PlannedFetch(key, plan.fetch_request(start, end), reason))
    for pkey in sorted(needs.periods):
        dataset, variant, start, end = pkey
        if start > end:
            continue
        plan = needs.templates[(dataset, variant)]
        spec = specs[dataset]
        stored = snapshot.periods.get(pkey)
        oldest = live_since(spec, today)
        if oldest is not None and start < oldest:
            continue  # beyond the network's memory: the store's copy or nothing
        if stored is None:
            fetches.append(PlannedFetch(pkey, plan.fetch_request(start, end), "missing"))
        elif not stored.settled and stored.fetched_at < now - timedelta(seconds=spec.fresh_seconds):
            fetches.append(PlannedFetch(pkey, plan.fetch_request(start, end), "stale"))
    return fetches
