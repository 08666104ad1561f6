"""The retry schedule: jittered around each configured delay, then no more attempts."""

from __future__ import annotations

import random

import pytest

from metrics_connect.jobs.schedule import parse_schedule, retry_delay
from metrics_connect.settings import Settings


def test_default_schedule_spans_about_a_day_and_grows() -> None:
    schedule = parse_schedule(Settings.model_fields["webhook_retry_schedule"].default)
    assert 20 * 3600 <= sum(schedule) <= 30 * 3600
    assert schedule == sorted(schedule)


def test_delays_are_jittered_within_bounds_and_end() -> None:
    rng = random.Random(1)
    schedule = [10.0, 100.0]
    firsts = {retry_delay(schedule, 1, 0.2, rng) for _ in range(50)}
    assert all(d is not None and 8.0 <= d <= 12.0 for d in firsts)
    assert len(firsts) > 40  # really jittered
    second = retry_delay(schedule, 2, 0.2, rng)
    assert second is not None and 80.0 <= second <= 120.0
    assert retry_delay(schedule, 3, 0.2, rng) is None
    assert retry_delay([], 1, 0.2, rng) is None


def test_negative_delays_are_rejected() -> None:
    with pytest.raises(ValueError):
        parse_schedule("5,-1")
