"""Widget notes: what a connector says is not exact (sampled, thresholded...) is stored
with the days or period it fetched, and shown on every widget that reads them."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from metrics_connect import clock
from metrics_connect.connectors.base import (
    NOTE_SAMPLED,
    NOTE_THRESHOLDED,
    AccountInfo,
    Connector,
    DatasetSpec,
    FetchRequest,
    FetchResult,
    PlannedCall,
    Row,
)
from metrics_connect.engine.coordinator import FetchCoordinator
from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.model import MetricNode, ResolvedWidget, SourcePlan
from metrics_connect.engine.plan import PlannedFetch, collect_needs
from metrics_connect.engine.service import _facts, answer_widgets
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

from .conftest import bare_integration

DAILY = DatasetSpec("daily", "daily", ("sessions",))
PERIOD = DatasetSpec("users", "period", ("users",))
SPECS = {"daily": DAILY, "users": PERIOD}
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 20)
SAMPLED_CHUNK = (date(2026, 3, 1), date(2026, 3, 5))
EXACT_CHUNK = (date(2026, 3, 6), date(2026, 3, 10))


class NotingConnector(Connector):
    """Answers 1 a day; marks the days of SAMPLED_CHUNK sampled, every period thresholded,
    and (when `partly`) only its first day sampled."""

    slug = "toy"
    datasets = SPECS

    def __init__(self, *, partly: bool = False, exact: bool = False) -> None:
        self.ctx = SimpleNamespace(settings=None)  # type: ignore[assignment]
        self.partly = partly
        self.exact = exact

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "users":
            notes = set() if self.exact else {NOTE_THRESHOLDED}
            return FetchResult(rows=[Row(None, {}, {"users": 7})], notes=notes)
        days = [
            date.fromordinal(d)
            for d in range(request.start.toordinal(), request.end.toordinal() + 1)
        ]
        result = FetchResult(rows=[Row(d, {}, {"sessions": 1}) for d in days])
        if self.exact or (request.start, request.end) != SAMPLED_CHUNK:
            return result
        if self.partly:
            result.day_notes = {request.start: {NOTE_SAMPLED}}
        else:
            result.notes = {NOTE_SAMPLED}
        return result

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        return [PlannedCall("GET", "/" + request.dataset, {})]

    async def account_info(self) -> AccountInfo:
        return AccountInfo("toy", "UTC")


def _plan(spec: DatasetSpec) -> SourcePlan:
    aggregation = "period" if spec.kind == "period" else "sum"
    return SourcePlan(spec.name, spec.kind, spec.fields[0], aggregation, (), (), (), (), ())


def _widget(widget_id: str, spec: DatasetSpec) -> ResolvedWidget:
    metric = MetricNode(spec.fields[0], spec.fields[0], "number", source=_plan(spec))
    return ResolvedWidget(widget_id, "number_v1", None, metrics=[metric])


@pytest.fixture
async def runtime_and_id(
    db_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[Runtime, int]]:
    runtime = Runtime.from_settings(settings_factory(db_url))
    clock.set_clock(lambda: NOW)
    yield runtime, await bare_integration(runtime, slug="toy")
    clock.set_clock(None)
    await runtime.db.dispose()


async def _fetch(
    store: FactStore,
    iid: int,
    connector: Connector,
    spans: list[tuple[date, date]],
    periods: list[tuple[date, date]] | None = None,
) -> None:
    """Days of `spans` by chunk; `users` for each of `periods` (default: the spans)."""
    fetches = [PlannedFetch(("daily", "-"), FetchRequest("daily", *s), "missing") for s in spans]
    fetches += [
        PlannedFetch(("users", "-", *s), FetchRequest("users", *s), "missing")
        for s in (spans if periods is None else periods)
    ]
    coordinator = FetchCoordinator(store, 2, None)
    errors = await coordinator.run(
        iid, "UTC", connector, SPECS, fetches, read_at=time.monotonic(), read_at_wall=NOW
    )
    assert errors == {}


async def _answer(
    store: FactStore,
    iid: int,
    period: tuple[date, date],
    comparison: tuple[date, date] | None = None,
) -> dict[str, dict[str, object]]:
    widgets = [_widget("sessions", DAILY), _widget("users", PERIOD)]
    periods = [period] + ([comparison] if comparison else [])
    needs = collect_needs(
        [w.metrics[0].source for w in widgets if w.metrics[0].source], periods, TODAY
    )
    assert needs.span is not None
    snapshot = await store.load(
        iid,
        day_keys=needs.day_keys,
        period_keys=needs.periods,
        start=needs.span[0],
        end=needs.span[1],
    )
    return answer_widgets(widgets, _facts(snapshot, TODAY), period, comparison)


async def test_notes_of_a_chunk_reach_the_widgets_that_read_its_days(
    runtime_and_id: tuple[Runtime, int],
) -> None:
    runtime, iid = runtime_and_id
    store = FactStore(runtime.db)
    whole_span = (SAMPLED_CHUNK[0], EXACT_CHUNK[1])
    await _fetch(
        store, iid, NotingConnector(), [SAMPLED_CHUNK, EXACT_CHUNK], [whole_span, EXACT_CHUNK]
    )

    whole = await _answer(store, iid, (SAMPLED_CHUNK[0], EXACT_CHUNK[1]))
    assert whole["sessions"]["values"] == 10
    assert whole["sessions"]["approximate"] is True
    assert whole["sessions"]["notes"] == ["sampled"]
    assert whole["users"]["notes"] == ["thresholded"]  # the period's own notes

    # Days of the exact chunk only: the daily widget is exact, its body as before.
    exact = await _answer(store, iid, EXACT_CHUNK)
    assert list(exact["sessions"]) == ["values", "comparison"]
    assert exact["users"]["notes"] == ["thresholded"]
    # A comparison period over the sampled days brings their note.
    compared = await _answer(store, iid, EXACT_CHUNK, SAMPLED_CHUNK)
    assert compared["sessions"]["notes"] == ["sampled"]
    assert compared["sessions"]["comparison"]["values"] == 5  # type: ignore[index]


async def test_day_notes_hold_for_their_days_only(runtime_and_id: tuple[Runtime, int]) -> None:
    runtime, iid = runtime_and_id
    store = FactStore(runtime.db)
    await _fetch(store, iid, NotingConnector(partly=True), [SAMPLED_CHUNK])
    first = SAMPLED_CHUNK[0]
    later = (date(2026, 3, 2), SAMPLED_CHUNK[1])
    assert (await _answer(store, iid, (first, first)))["sessions"]["notes"] == ["sampled"]
    assert "notes" not in (await _answer(store, iid, later))["sessions"]
    # A period stores the notes of all its days.
    assert (await _answer(store, iid, SAMPLED_CHUNK))["users"]["notes"] == ["thresholded"]


async def test_an_exact_refetch_clears_the_notes(runtime_and_id: tuple[Runtime, int]) -> None:
    runtime, iid = runtime_and_id
    store = FactStore(runtime.db)
    await _fetch(store, iid, NotingConnector(), [SAMPLED_CHUNK])
    await _fetch(store, iid, NotingConnector(exact=True), [SAMPLED_CHUNK])
    answer = await _answer(store, iid, SAMPLED_CHUNK)
    # Byte-identical to an answer that never had notes.
    assert json.dumps(answer["sessions"]) == json.dumps(
        {
            "values": 5,
            "comparison": {"values": None, "difference": None, "absoluteDifference": None},
        }
    )
    assert list(answer["users"]) == ["values", "comparison"]


async def test_an_error_body_gets_no_notes(runtime_and_id: tuple[Runtime, int]) -> None:
    runtime, iid = runtime_and_id
    store = FactStore(runtime.db)
    await _fetch(store, iid, NotingConnector(), [SAMPLED_CHUNK])
    # The period widget over a period never fetched: an error, whatever the days hold.
    answer = await _answer(store, iid, (SAMPLED_CHUNK[0], EXACT_CHUNK[1]))
    assert set(answer["users"]) == {"error"}
