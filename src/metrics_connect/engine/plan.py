"""The planner: merge every widget's needs, compare them with the store, list the fetches.

A need is a (dataset, variant) over days (daily, snapshot and object datasets) or over
an exact period (period datasets). A day is fetched when the network still serves it
(its live window) and the store lacks it, or holds it unsettled for longer than the
dataset's `fresh_seconds`. Missing runs of days are cut at the dataset's
`max_days_per_call`, so that chunks can be fetched concurrently.

An objects fetch that lists (posts) takes as many pages and batches as the network
holds objects, which nobody knows before listing: `estimate_objects` guesses them from
the store for ?explain=true.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from metrics_connect.connectors.base import (
    DatasetSpec,
    FetchRequest,
    ObjectEstimate,
    ObjectRow,
    Row,
)
from metrics_connect.engine.days import days_between, live_since
from metrics_connect.engine.facts import FactKey, FactSnapshot, PeriodKey
from metrics_connect.engine.model import SourcePlan


@dataclass
class Needs:
    """What a request reads, merged across widgets and periods."""

    days: dict[FactKey, set[date]] = field(default_factory=dict)
    periods: set[PeriodKey] = field(default_factory=set)
    templates: dict[FactKey, SourcePlan] = field(default_factory=dict)
    span: tuple[date, date] | None = None
    # Records datasets read (whole, by dataset; kept current by their sync, not by days).
    records: set[str] = field(default_factory=set)

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
        if plan.kind == "records":
            needs.records.add(plan.dataset)
            continue
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


# The latest instant of all: a plan with nothing unsettled stays valid for its day.
NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Plan:
    """The fetches a request needs now, and until when that list holds."""

    fetches: list[PlannedFetch]
    # The last instant at which the same needs, store contents and account day still
    # plan these fetches: after it an unsettled day or period becomes stale.
    valid_until: datetime


def plan_fetches(
    needs: Needs,
    snapshot: FactSnapshot,
    specs: dict[str, DatasetSpec],
    *,
    now: datetime,
    today: date,
) -> list[PlannedFetch]:
    return make_plan(needs, snapshot, specs, now=now, today=today).fetches


def make_plan(
    needs: Needs,
    snapshot: FactSnapshot,
    specs: dict[str, DatasetSpec],
    *,
    now: datetime,
    today: date,
) -> Plan:
    fetches: list[PlannedFetch] = []
    valid_until = NEVER
    for key, wanted in needs.days.items():
        plan = needs.templates[key]
        spec = specs[plan.dataset]
        oldest = live_since(spec, today)
        coverage = snapshot.coverage.get(key, {})
        fresh = timedelta(seconds=spec.fresh_seconds)
        fresh_limit = now - fresh
        todo: dict[date, str] = {}
        # The oldest fetch of an unsettled day that is still fresh: stale after `fresh`.
        oldest_fresh: datetime | None = None
        for day in wanted:
            if day > today or (oldest is not None and day < oldest):
                continue
            entry = coverage.get(day)
            if entry is None:
                todo[day] = "missing"
            elif not entry.settled:
                if entry.fetched_at < fresh_limit:
                    todo[day] = "stale"
                elif oldest_fresh is None or entry.fetched_at < oldest_fresh:
                    oldest_fresh = entry.fetched_at
        if oldest_fresh is not None:
            valid_until = min(valid_until, oldest_fresh + fresh)
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
        fresh = timedelta(seconds=spec.fresh_seconds)
        if stored is None:
            fetches.append(PlannedFetch(pkey, plan.fetch_request(start, end), "missing"))
        elif not stored.settled:
            if stored.fetched_at < now - fresh:
                fetches.append(PlannedFetch(pkey, plan.fetch_request(start, end), "stale"))
            else:
                valid_until = min(valid_until, stored.fetched_at + fresh)
    return Plan(fetches, valid_until)


def estimate_objects(
    request: FetchRequest,
    spec: DatasetSpec,
    *,
    today: date,
    objects: Sequence[ObjectRow] = (),
    covered: Collection[date] = (),
    counts: Sequence[Row] = (),
) -> ObjectEstimate:
    """How many objects a newest-first listing for `request` meets, from the store.

    `objects` and `covered`: the dataset's stored objects and covered days on and near
    the listed days (request.start..today); `counts`: the rows of `spec.counted_by`'s
    dataset (a daily all-time count such as media_count) over the same days. In order:
    the stored objects when every listed day is covered; differences of the counts (of
    the first day, of the day after the last, the latest); a per-day rate of the stored
    objects on the covered days; else nothing (in_span None)."""
    start, end = request.start, min(request.end, today)
    listed = days_between(start, today) if start <= today else []
    if listed and all(day in covered for day in listed):
        return ObjectEstimate(
            in_span=sum(1 for o in objects if start <= o.day <= end),
            newer=sum(1 for o in objects if end < o.day <= today),
            basis="stored_objects",
        )
    if spec.counted_by is not None:
        counted = _count_estimate(counts, spec.counted_by, start, end)
        if counted is not None:
            return counted
    stored_days = [day for day in covered if day <= today]
    if stored_days:
        per_day = sum(1 for o in objects if o.day in covered) / len(stored_days)

        def guess(first: date, last: date) -> int:
            days = days_between(first, last) if first <= last else []
            held = sum(1 for o in objects if first <= o.day <= last and o.day in covered)
            return held + round(per_day * sum(1 for day in days if day not in covered))

        return ObjectEstimate(
            in_span=guess(start, end),
            newer=guess(end + timedelta(days=1), today),
            basis="stored_objects_rate",
        )
    return ObjectEstimate(in_span=None)


def _count_estimate(
    counts: Sequence[Row], counted_by: tuple[str, str], start: date, end: date
) -> ObjectEstimate | None:
    """From an all-time count taken once a day, early (the sync's first run of the day):
    the objects before `start` are the count of that day, those up to `end` the count of
    the day after it (the nearest earlier day's when one is missing), newer ones the
    latest count minus that."""
    dataset, name = counted_by
    series: list[tuple[date, int]] = []
    for row in counts:
        value = row.values.get(name)
        if row.day is not None and isinstance(value, int | float) and not isinstance(value, bool):
            series.append((row.day, int(value)))
    series.sort()

    def at(day: date) -> int | None:
        found = None
        for when, value in series:
            if when > day:
                break
            found = value
        return found

    before = at(start)
    through_end = at(end + timedelta(days=1))
    if before is None or through_end is None:
        return None
    return ObjectEstimate(
        in_span=max(0, through_end - before),
        newer=max(0, series[-1][1] - through_end),
        older=before > 0,
        basis=f"{dataset}.{name}",
    )
