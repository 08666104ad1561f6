"""Where GA4 is not exact: thresholds, the (other) row and sampling, from the raw data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date

import httpx

from metrics_connect.networks.google_analytics_4.emulator.app import Ga4Emulator

from .conftest import NOW, REPORT_URL, metric_table

DAY = date(2026, 3, 10)


def _body(metrics: list[str], dims: list[str], start: date = DAY, end: date = DAY) -> dict:  # type: ignore[type-arg]
    return {
        "dateRanges": [{"startDate": start.isoformat(), "endDate": end.isoformat()}],
        "metrics": [{"name": m} for m in metrics],
        "dimensions": [{"name": d} for d in dims],
    }


async def _report(api: httpx.AsyncClient, body: dict) -> dict:  # type: ignore[type-arg]
    response = await api.post(REPORT_URL, json=body)
    assert response.status_code == 200, response.text
    result: dict = response.json()  # type: ignore[type-arg]
    return result


async def test_users_by_age_are_thresholded_on_small_counts(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    minimum = emulator.data.fidelity.thresholding.min_users
    users: dict[str, set[str]] = defaultdict(set)
    for s in emulator.data.sessions(DAY, DAY, NOW):
        users[s.user.age].add(s.user.user_id)
    small = {age for age, ids in users.items() if len(ids) < minimum}
    large = {age for age, ids in users.items() if len(ids) >= minimum}
    assert small and large  # the day has both kinds of rows

    answer = await _report(api, _body(["totalUsers"], ["userAgeBracket"]))
    assert answer["metadata"]["subjectToThresholding"] is True
    table = metric_table(answer)
    assert {age for (age,) in table} == large  # rows of few users are withheld
    for age in large:
        assert table[(age,)]["totalUsers"] == len(users[age])


async def test_no_thresholds_without_demographics_or_user_metrics(api: httpx.AsyncClient) -> None:
    by_device = await _report(api, _body(["totalUsers"], ["deviceCategory"]))
    assert "subjectToThresholding" not in by_device["metadata"]
    sessions_by_age = await _report(api, _body(["sessions"], ["userAgeBracket"]))
    assert "subjectToThresholding" not in sessions_by_age["metadata"]


async def test_rows_past_the_daily_limit_fold_into_other(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    fidelity = emulator.data.fidelity
    emulator.data.fidelity = replace(
        fidelity, other_row=replace(fidelity.other_row, max_rows_per_day=3)
    )
    sessions = emulator.data.sessions(DAY, DAY, NOW)
    per_city: dict[str, int] = defaultdict(int)
    for s in sessions:
        per_city[s.user.city] += 1
    answer = await _report(api, _body(["sessions"], ["city"]))
    assert answer["metadata"]["dataLossFromOtherRow"] is True
    table = metric_table(answer)
    top = sorted(per_city, key=lambda c: (-per_city[c], c))[:2]
    assert set(table) == {(c,) for c in top} | {("(other)",)}
    assert table[("(other)",)]["sessions"] == len(sessions) - sum(per_city[c] for c in top)


async def test_reports_over_the_event_quota_are_sampled(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    events = sum(s.value("eventCount") for s in emulator.data.sessions(DAY, DAY, NOW))
    plain = await _report(api, _body(["sessions"], []))
    assert "samplingMetadatas" not in plain["metadata"]
    fidelity = emulator.data.fidelity
    emulator.data.fidelity = replace(fidelity, sampling=replace(fidelity.sampling, max_events=10))
    sampled = await _report(api, _body(["sessions"], []))
    assert sampled["metadata"]["samplingMetadatas"] == [
        {"samplesReadCount": "10", "samplingSpaceSize": str(int(events))}
    ]
