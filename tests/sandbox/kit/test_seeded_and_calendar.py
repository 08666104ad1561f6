"""Seeded data, lifetimes, local days and versions of the sandbox kit."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from metrics_connect.sandbox.kit.calendar import LocalDays, days_between, partial
from metrics_connect.sandbox.kit.seeded import (
    DailySeries,
    Lifetime,
    apportion,
    apportion_map,
    between,
    live_at,
    period_uniques,
    seeded_random,
    split_by_weights,
    split_cumulative,
    split_figures,
    split_rounded,
    unit,
)
from metrics_connect.sandbox.kit.versions import ApiVersions, VersionRefused

WEEKLY = (0.9, 1.0, 1.0, 1.0, 1.1, 1.3, 0.7)


def test_seeded_numbers_depend_only_on_their_key() -> None:
    assert unit(7, "reach", date(2024, 1, 1)) == unit(7, "reach", date(2024, 1, 1))
    assert unit(7, "reach", date(2024, 1, 1)) != unit(8, "reach", date(2024, 1, 1))
    assert 2 <= between(2, 3, "x") < 3
    assert seeded_random("a", 1).random() == seeded_random("a", 1).random()
    assert seeded_random("a", 1).random() != seeded_random("a", 2).random()


@pytest.mark.parametrize("total", [0, 1, 7, 1000, 123457])
def test_splits_sum_exactly_to_the_total(total: int) -> None:
    assert sum(apportion(total, [0.2, 0.5, 0.3, 0.0])) == total
    parts = split_cumulative(total, [0.1, 0.45, 0.9, 1.0])
    assert sum(parts) == total and min(parts) >= 0
    by_key = apportion_map(total, {"b": 0.2, "a": 0.5, "c": 0.3, "d": 0.0})
    assert list(by_key) == ["b", "a", "c", "d"]
    assert list(by_key.values()) == apportion(total, [0.2, 0.5, 0.3, 0.0])


def test_daily_series_has_trend_weekly_season_and_bounded_noise() -> None:
    start = date(2024, 1, 1)  # a Monday
    series = DailySeries(start, 100, 1.0, WEEKLY, noise_low=0.9, noise_high=1.1, key=("orders",))
    assert series.value(start - timedelta(days=1)) == 0
    for offset in range(0, 70):
        day = start + timedelta(days=offset)
        expected = (100 + offset) * WEEKLY[day.weekday()]
        assert series.expected(day) == expected
        assert expected * 0.9 - 1 <= series.value(day) <= expected * 1.1 + 1
    # Trend: ten weeks later the same weekday is higher; season: Saturday above Sunday.
    assert series.expected(date(2024, 3, 11)) > series.expected(start)
    assert series.expected(date(2024, 1, 6)) > series.expected(date(2024, 1, 7))
    # Noise is per day, so two days differ from their expectation differently.
    ratios = {
        series.value(start + timedelta(days=d)) / series.expected(start + timedelta(days=d))
        for d in range(7)
    }
    assert len(ratios) > 1
    # Same key, same values: no dependence on which days were asked before.
    again = DailySeries(start, 100, 1.0, WEEKLY, noise_low=0.9, noise_high=1.1, key=("orders",))
    assert again.value(date(2024, 2, 2)) == series.value(date(2024, 2, 2))


def test_yearly_wave_peaks_in_spring_of_the_day_of_year() -> None:
    series = DailySeries(date(2024, 1, 1), 100, yearly_amplitude=0.2)
    assert series.expected(date(2024, 4, 1)) > series.expected(date(2024, 1, 1))
    assert series.expected(date(2024, 10, 1)) < series.expected(date(2024, 1, 1))


def test_lifetimes() -> None:
    campaign = Lifetime(date(2024, 1, 10), date(2024, 3, 1))
    adset = Lifetime(date(2024, 2, 1))
    both = campaign.overlap(adset)
    assert both == Lifetime(date(2024, 2, 1), date(2024, 3, 1))
    assert not both.active_on(date(2024, 1, 31))
    assert both.active_on(date(2024, 3, 1)) and not both.active_on(date(2024, 3, 2))
    assert Lifetime(date(2024, 1, 1)).active_on(date(2030, 1, 1))
    posted = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert live_at(posted, timedelta(hours=24), posted + timedelta(hours=23))
    assert not live_at(posted, timedelta(hours=24), posted + timedelta(hours=24))
    assert not live_at(posted, None, posted - timedelta(seconds=1))


def test_local_days() -> None:
    days = LocalDays("America/Sao_Paulo")  # UTC-3, no daylight saving since 2019
    at = datetime(2024, 6, 10, 2, 0, tzinfo=UTC)  # 23:00 on the 9th there
    assert days.day_of(at) == date(2024, 6, 9)
    assert days.day_start(date(2024, 6, 9)) == datetime(2024, 6, 9, 3, tzinfo=UTC)
    assert days.elapsed_share(date(2024, 6, 9), at) == pytest.approx(23 / 24)
    assert days.elapsed_share(date(2024, 6, 10), at) == 0.0
    assert days.elapsed_share(date(2024, 6, 8), at) == 1.0
    assert days.wall_clock_share(at) == pytest.approx(23 / 24)


def test_versions_refuse_unknown_old_and_retired_ones() -> None:
    versions = ApiVersions(
        re.compile(r"^v(\d+)\.(\d+)$"),
        default="v21.0",
        oldest_major=18,
        end_of_life={"v19.0": date(2025, 5, 21)},
    )
    assert versions.split_path("/v20.0/123/insights") == ("v20.0", ["123", "insights"])
    assert versions.split_path("/123") == ("v21.0", ["123"])
    assert versions.check("v20.0", date(2026, 1, 1)) == 20
    assert versions.check("v19.0", date(2025, 5, 21)) == 19
    with pytest.raises(VersionRefused, match="retired"):
        versions.check("v19.0", date(2025, 5, 22))
    with pytest.raises(VersionRefused, match="retired"):
        versions.check("v17.0")
    with pytest.raises(VersionRefused, match="unknown"):
        versions.check("latest")


def test_instagram_follows_are_the_kit_series() -> None:
    """The Instagram emulator's daily follows are a DailySeries (trend, week, noise)."""
    from metrics_connect.networks.instagram_business.emulator.model import (
        ACCOUNT_CREATED,
        WEEKLY,
        InstagramSandbox,
    )

    sandbox = InstagramSandbox()
    day = date(2024, 3, 14)
    index = (day - ACCOUNT_CREATED).days
    expected = (14 + 0.045 * index) * WEEKLY[day.weekday()]
    assert sandbox.follows(day) == round(expected * between(0.7, 1.3, sandbox.seed, "follows", day))


def test_days_between_includes_both_ends() -> None:
    first = date(2024, 2, 27)
    assert days_between(first, date(2024, 3, 1)) == [
        date(2024, 2, 27),
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]
    assert days_between(first, first) == [first]
    assert days_between(first, date(2024, 2, 26)) == []


def test_split_rounded_parts_sum_to_the_amount() -> None:
    assert split_rounded(10.0, [1.0, 1.0, 1.0]) == [3.33, 3.33, 3.34]
    assert split_rounded(20.0, [42.0]) == [20.0]
    parts = split_rounded(17.77, [129.0, 59.0, 24.9])
    assert parts == [10.77, 4.92, 2.08] and round(sum(parts), 2) == 17.77


def test_split_by_weights_whole_or_to_cents() -> None:
    weights = {"a": 0.5, "b": 0.3, "c": 0.2}
    assert split_by_weights(10, weights) == {"a": 5.0, "b": 3.0, "c": 2.0}
    assert split_by_weights(7, weights) == {"a": 4.0, "b": 2.0, "c": 1.0}
    assert split_by_weights(9.99, weights, 2) == {"a": 5.0, "b": 3.0, "c": 2.0}


def test_period_uniques_shrink_with_days_and_objects() -> None:
    day = date(2026, 1, 1)
    assert period_uniques([], 0.2, 0.1) == 0
    assert period_uniques([("ad", day, 100.0)], 0.2, 0.1) == 100
    two_days = [("ad", day, 100.0), ("ad", day + timedelta(days=1), 100.0)]
    assert period_uniques(two_days, 0.2, 0.1) == round(200 / (1 + 0.2 * math.log(2)))
    two_ads = [("a", day, 100.0), ("b", day, 100.0)]
    assert period_uniques(two_ads, 0.2, 0.1) == round(200 / 1.1)


def test_a_partial_day_scales_counts_whole_and_money_to_cents() -> None:
    assert partial({"clicks": 15, "spend": 10.25}, 0.5, 2) == {"clicks": 8, "spend": 5.12}


def test_split_figures_splits_counts_exactly_and_amounts_to_the_cent() -> None:
    parts = split_figures({"clicks": 10.0, "cost": 1.0}, [1, 1, 1], {"cost"})
    assert [p["clicks"] for p in parts] == [3.0, 3.0, 4.0]
    assert [p["cost"] for p in parts] == [0.33, 0.33, 0.33]
    assert split_figures({"clicks": 5.0}, [], set()) == []
