"""?explain=true's estimate of a paged fetch (posts): from the store, without a call."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from metrics_connect.connectors.base import (
    DatasetSpec,
    FetchRequest,
    FetchResult,
    ObjectEstimate,
    ObjectRow,
    Row,
)
from metrics_connect.engine.days import days_between
from metrics_connect.engine.explain import call_totals, explain_fetch, object_estimates
from metrics_connect.engine.plan import PlannedFetch, estimate_objects
from metrics_connect.engine.service import engine_for
from metrics_connect.networks.instagram_business.connector.hooks import InstagramConnector
from metrics_connect.sync.service import load_integration

from .conftest import NOW, Connected, RecordingTransport
from .test_instagram_numbers import TODAY

DATASETS = InstagramConnector.datasets

MEDIA = DATASETS["media"]
COUNT_BASIS = "followers_snapshot.media_count"
D = date(2026, 6, 1)


def counts(values: dict[date, int]) -> list[Row]:
    return [Row(day, {}, {"followers_count": 10, "media_count": n}) for day, n in values.items()]


def posts(days: list[date]) -> list[ObjectRow]:
    return [ObjectRow(f"p{i}", day, {}, {}) for i, day in enumerate(days)]


def test_counts_give_the_span_the_newer_and_whether_older_exist() -> None:
    request = FetchRequest("media", D, D + timedelta(days=9))
    today = D + timedelta(days=20)
    # media_count as taken early each day: 100 before D, 130 before D+10, 141 today.
    series = {D - timedelta(days=1): 99, D: 100, D + timedelta(days=10): 130, today: 141}
    estimate = estimate_objects(request, MEDIA, today=today, counts=counts(series))
    assert estimate == ObjectEstimate(in_span=30, newer=11, older=True, basis=COUNT_BASIS)


def test_a_missing_count_day_takes_the_nearest_earlier_one() -> None:
    request = FetchRequest("media", D, D + timedelta(days=9))
    series = {D - timedelta(days=3): 0, D + timedelta(days=8): 12}
    estimate = estimate_objects(request, MEDIA, today=D + timedelta(days=12), counts=counts(series))
    assert (estimate.in_span, estimate.newer, estimate.older) == (12, 0, False)


def test_counts_must_reach_back_to_the_first_day() -> None:
    request = FetchRequest("media", D, D + timedelta(days=9))
    series = {D + timedelta(days=1): 5, D + timedelta(days=10): 30}
    estimate = estimate_objects(request, MEDIA, today=D + timedelta(days=12), counts=counts(series))
    assert estimate.in_span is None and estimate.basis == "none"


def test_stored_objects_of_every_listed_day_come_first() -> None:
    request = FetchRequest("media", D, D + timedelta(days=4))
    today = D + timedelta(days=6)
    stored = posts([D - timedelta(days=1), D, D, D + timedelta(days=4), D + timedelta(days=6)])
    estimate = estimate_objects(
        request,
        MEDIA,
        today=today,
        objects=stored,
        covered=days_between(D - timedelta(days=1), today),
        counts=counts({D: 1000, today: 2000}),
    )
    assert estimate == ObjectEstimate(in_span=3, newer=1, older=True, basis="stored_objects")


def test_partly_stored_objects_give_a_per_day_rate() -> None:
    spec = DatasetSpec(name="media", kind="objects", fields=())  # no count to go by
    request = FetchRequest("media", D, D + timedelta(days=9))
    today = D + timedelta(days=9)
    covered = days_between(D, D + timedelta(days=4))  # 5 days with 10 posts: 2 a day
    stored = posts([D + timedelta(days=i % 5) for i in range(10)])
    estimate = estimate_objects(request, spec, today=today, objects=stored, covered=covered)
    assert estimate == ObjectEstimate(in_span=20, newer=0, basis="stored_objects_rate")


def test_nothing_to_go_by() -> None:
    request = FetchRequest("media", D, D + timedelta(days=9))
    estimate = estimate_objects(request, MEDIA, today=D + timedelta(days=9))
    assert estimate.in_span is None and estimate.basis == "none"


def test_call_totals_split_exact_and_estimated() -> None:
    planned = [
        {"calls": [{}, {}], "estimated": False},
        {"calls": [{}, {}, {}], "estimated": True},
        {"calls": [{}]},
    ]
    assert call_totals(planned) == {
        "upstream_calls": 6,
        "upstream_calls_exact": 3,
        "upstream_calls_estimated": 3,
    }


async def test_estimated_media_calls_are_the_listing_calls(
    connected: Connected, upstream: RecordingTransport
) -> None:
    """The daily media_count archive (taken at each day's start, and now for today)
    makes the estimate exact: the same list pages and batches the fetch then takes."""
    sandbox = connected.network.sandbox
    start = TODAY - timedelta(days=200)
    rows = []
    for day in days_between(start - timedelta(days=5), TODAY):
        moment = NOW if day == TODAY else datetime.combine(day, time(0), sandbox.tz)
        rows.append(Row(day, {}, {"media_count": len(sandbox.media(until=moment))}))
    engine = engine_for(connected.runtime)
    count_request = FetchRequest("followers_snapshot", rows[0].day or start, TODAY)
    await engine.store.store(
        connected.integration_id,
        DATASETS["followers_snapshot"],
        count_request,
        FetchResult(rows=rows),
        fetched_at=NOW,
        origin="sync",
    )
    fetch = PlannedFetch(("media", "-"), FetchRequest("media", start, TODAY), "missing")
    estimates = await object_estimates(
        engine.store, connected.integration_id, DATASETS, [fetch], TODAY
    )
    estimate = estimates[0]
    assert estimate.basis == COUNT_BASIS and estimate.in_span and estimate.in_span > 100
    integration = await load_integration(connected.runtime, connected.integration_uuid)
    assert integration is not None
    connector = engine.connector(integration)
    planned = explain_fetch(connector, fetch, estimate)
    assert planned["estimated"] and planned["estimate"]["basis"] == COUNT_BASIS
    upstream.requests.clear()
    result = await connector.fetch(fetch.request)
    assert len(result.objects) == estimate.in_span
    made = [kind(r.method, r.url.path) for r in upstream.requests]
    assert [kind(c["method"], c["path"]) for c in planned["calls"]] == made
    assert made.count("list page") > 2 and made.count("batch") > 2


def kind(method: str, path: str) -> str:
    if method == "POST":
        return "batch"
    return "list page" if path.endswith("/media") else path
