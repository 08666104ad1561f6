"""The seeded kit's pooled uniques (unique people over days from one pool) and running
totals (a count kept by daily changes)."""

from __future__ import annotations

from datetime import date, timedelta

from metrics_connect.sandbox.kit.seeded import RunningTotal, pooled_uniques


def test_pooled_uniques_lie_between_the_largest_day_and_the_sum() -> None:
    assert pooled_uniques([0, 40, 0], 100) == 40  # one day reached anyone: that day
    daily = [30, 40, 20]
    uniques = pooled_uniques(daily, 100)
    assert max(daily) <= uniques < sum(daily)
    assert uniques == int(100 * (1 - 0.7 * 0.6 * 0.8))
    # A pool smaller than a day is widened to just above it: the same people come back.
    assert pooled_uniques([50, 50], 10) == 50
    # A large pool: people rarely come back, nearly the sum.
    assert pooled_uniques([30, 40], 10**9) == 69


def test_running_total() -> None:
    start = date(2024, 1, 1)
    asked: list[date] = []

    def change(day: date) -> int:
        asked.append(day)
        return day.day

    total = RunningTotal(start, 100, change)
    assert total.through(start - timedelta(days=1)) == 100
    assert total.through(start) == 101
    assert total.through(date(2024, 1, 4)) == 100 + 1 + 2 + 3 + 4
    assert total.through(date(2024, 1, 2)) == 103
    assert asked == [start + timedelta(days=i) for i in range(4)]  # each day once
