"""Reporting periods as ads APIs take them: a named preset range relative to today (days
back, calendar months back, years back) and a range cut into buckets (rows of n days, of
calendar months or years, or one row for the whole range)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# A bucket unit: a number of days, "month", "year", or "all" (the whole range).
Unit = int | str


def month_start(day: date, shift: int = 0) -> date:
    """The first day of `day`'s month, `shift` months later (earlier when negative)."""
    months = day.year * 12 + day.month - 1 + shift
    return date(months // 12, months % 12 + 1, 1)


def month_end(day: date) -> date:
    return month_start(day, 1) - timedelta(days=1)


@dataclass(frozen=True)
class Preset:
    """A preset's range from today: `days` back of its first and last day; or `months`
    back of its first and last calendar month (the current month ends today); or `years`
    back of its first day, to today."""

    days: tuple[int, int] | None = None
    months: tuple[int, int] | None = None
    years: int | None = None

    def range(self, today: date) -> tuple[date, date]:
        if self.days is not None:
            return today - timedelta(days=self.days[0]), today - timedelta(days=self.days[1])
        if self.months is not None:
            last_month = month_start(today, -self.months[1])
            return month_start(today, -self.months[0]), min(today, month_end(last_month))
        return today.replace(year=today.year - (self.years or 0)), today


def buckets(first: date, last: date, unit: Unit) -> list[tuple[date, date]]:
    """[first, last] cut into (start, end) buckets of `unit`, in order; the first and last
    bucket may be partial (they start at `first`, end at `last`)."""
    if unit == "all":
        return [(first, last)]
    out, start = [], first
    while start <= last:
        if isinstance(unit, int):
            end = start + timedelta(days=unit - 1)
        elif unit == "month":
            end = month_end(start)
        elif unit == "year":
            end = date(start.year, 12, 31)
        else:
            raise ValueError(f"unknown bucket unit {unit!r}")
        out.append((start, min(end, last)))
        start = end + timedelta(days=1)
    return out
