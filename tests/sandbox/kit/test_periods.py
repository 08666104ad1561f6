"""Reporting periods: presets relative to today and ranges cut into buckets."""

from __future__ import annotations

from datetime import date

import pytest

from metrics_connect.sandbox.kit.periods import Preset, buckets, month_end, month_start

TODAY = date(2026, 1, 15)


def test_month_start_shifts_across_years() -> None:
    assert month_start(TODAY) == date(2026, 1, 1)
    assert month_start(TODAY, -1) == date(2025, 12, 1)
    assert month_start(TODAY, 12) == date(2027, 1, 1)
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)


def test_presets_by_days_months_and_years() -> None:
    assert Preset(days=(7, 1)).range(TODAY) == (date(2026, 1, 8), date(2026, 1, 14))
    assert Preset(days=(0, 0)).range(TODAY) == (TODAY, TODAY)
    assert Preset(months=(0, 0)).range(TODAY) == (date(2026, 1, 1), TODAY)
    assert Preset(months=(1, 1)).range(TODAY) == (date(2025, 12, 1), date(2025, 12, 31))
    assert Preset(months=(3, 1)).range(TODAY) == (date(2025, 10, 1), date(2025, 12, 31))
    assert Preset(years=3).range(TODAY) == (date(2023, 1, 15), TODAY)


def test_buckets_of_days_start_at_the_first_day_and_end_at_the_last() -> None:
    assert buckets(date(2025, 12, 1), date(2025, 12, 10), 4) == [
        (date(2025, 12, 1), date(2025, 12, 4)),
        (date(2025, 12, 5), date(2025, 12, 8)),
        (date(2025, 12, 9), date(2025, 12, 10)),
    ]
    assert len(buckets(date(2025, 12, 1), date(2025, 12, 31), 1)) == 31


def test_calendar_buckets_are_partial_at_the_ends() -> None:
    assert buckets(date(2025, 11, 20), date(2026, 1, 5), "month") == [
        (date(2025, 11, 20), date(2025, 11, 30)),
        (date(2025, 12, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 5)),
    ]
    assert buckets(date(2025, 11, 20), date(2026, 1, 5), "year") == [
        (date(2025, 11, 20), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 5)),
    ]
    assert buckets(date(2025, 11, 20), date(2026, 1, 5), "all") == [
        (date(2025, 11, 20), date(2026, 1, 5))
    ]


def test_an_empty_range_has_no_buckets_but_whole_is_one() -> None:
    assert buckets(date(2025, 12, 2), date(2025, 12, 1), 1) == []
    with pytest.raises(ValueError):
        buckets(date(2025, 12, 1), date(2025, 12, 2), "week")
