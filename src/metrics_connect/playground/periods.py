"""The playground's period presets and comparisons, counted in the account's days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

PRESETS: dict[str, str] = {
    "last_7_days": "Last 7 days",
    "last_30_days": "Last 30 days",
    "last_90_days": "Last 90 days",
    "this_month": "This month",
    "last_month": "Last month",
    "custom": "Custom dates",
}
COMPARISONS: dict[str, str] = {
    "none": "No comparison",
    "previous_period": "Previous period",
    "previous_year": "Same period a year before",
    "custom": "Custom dates",
}


class PeriodError(ValueError):
    """A period the form cannot make sense of, in words for the page."""


@dataclass(frozen=True)
class Periods:
    start: date
    end: date
    comparison_start: date | None = None
    comparison_end: date | None = None


def _parse(value: str | None, what: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise PeriodError(f"Give the {what} as a date (YYYY-MM-DD).") from None


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def preset_period(preset: str, today: date) -> tuple[date, date]:
    """Last N days end yesterday (the last complete day); this month ends today."""
    if preset.startswith("last_") and preset.endswith("_days"):
        days = int(preset.removeprefix("last_").removesuffix("_days"))
        return today - timedelta(days=days), today - timedelta(days=1)
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    raise PeriodError("Choose a period.")


def resolve_periods(
    today: date,
    preset: str,
    start: str | None,
    end: str | None,
    comparison: str,
    comparison_start: str | None,
    comparison_end: str | None,
) -> Periods:
    if preset == "custom":
        first, last = _parse(start, "start"), _parse(end, "end")
    elif preset in PRESETS:
        first, last = preset_period(preset, today)
    else:
        raise PeriodError("Choose a period.")
    if last < first:
        raise PeriodError("The end comes before the start.")
    if comparison == "none":
        return Periods(first, last)
    if comparison == "previous_period":
        length = last - first + timedelta(days=1)
        return Periods(first, last, first - length, first - timedelta(days=1))
    if comparison == "previous_year":
        return Periods(first, last, _year_before(first), _year_before(last))
    if comparison == "custom":
        c_first = _parse(comparison_start, "comparison start")
        c_last = _parse(comparison_end, "comparison end")
        if c_last < c_first:
            raise PeriodError("The comparison's end comes before its start.")
        return Periods(first, last, c_first, c_last)
    raise PeriodError("Choose a comparison.")
