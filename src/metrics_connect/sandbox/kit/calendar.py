"""The days of an emulated account: calendar days in the network's time zone for that
account, as the network reports them (a day's figures cover its local midnight to
midnight; today is partial: `partial`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class LocalDays:
    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        # Memoised: period totals ask for every day's bounds, per metric, per call.
        self._starts: dict[date, datetime] = {}

    def day_of(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def day_start(self, day: date) -> datetime:
        """The UTC instant of the local day's midnight."""
        start = self._starts.get(day)
        if start is None:
            start = datetime.combine(day, time(0), self.tz).astimezone(UTC)
            self._starts[day] = start
        return start

    def day_end(self, day: date) -> datetime:
        return self.day_start(day + timedelta(days=1))

    def elapsed_share(self, day: date, at: datetime) -> float:
        """How much of `day` had elapsed at `at` (0 before it starts, 1 once it ended),
        in real time (a 23- or 25-hour day counts its own length)."""
        start, end = self.day_start(day), self.day_end(day)
        if at <= start:
            return 0.0
        if at >= end:
            return 1.0
        return (at - start).total_seconds() / (end - start).total_seconds()

    def wall_clock_share(self, at: datetime) -> float:
        """The share of `at`'s local day gone by its wall clock (hours since midnight / 24)."""
        local = at.astimezone(self.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return (local - midnight).total_seconds() / 86400


class ClockDays(LocalDays):
    """An account's local days on an emulator's clock: now, today, and the share of a
    day gone by now."""

    def __init__(self, timezone: str, clock: Callable[[], datetime]) -> None:
        super().__init__(timezone)
        self.clock = clock

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        return self.day_of(self.now())

    def elapsed_share(self, day: date, at: datetime | None = None) -> float:
        return super().elapsed_share(day, at or self.now())


def partial(figures: dict[str, float], share: float, digits: int) -> dict[str, float]:
    """A day's figures when `share` of it has gone by: each scaled, integers rounded whole
    and amounts (floats) to `digits`."""
    return {
        name: round(value * share, digits if isinstance(value, float) else None)
        for name, value in figures.items()
    }


def days_between(first: date, last: date) -> list[date]:
    """The days from `first` to `last`, both included ([] when last is before first)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
