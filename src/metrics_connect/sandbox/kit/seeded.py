"""Seeded data: every number an emulator serves is a function of (seed, what, when,
which), so two emulators with the same seed agree and nothing depends on import order,
call order or the process.

- `unit`, `between`, `draws`: a stable number / generator from key parts (BLAKE2b);
  `seeded_random`: the same from SHA-256 (the Marketing API emulator's key scheme).
- `apportion` (`apportion_map` by key), `split_cumulative`: integer totals split into
  parts that sum exactly; `split_rounded`: an amount of money split the same way;
  `split_by_weights`: either, by key.
- `DailySeries`: a day's value from a level, a linear trend, a weekly season, a yearly
  wave and bounded noise.
- `period_uniques`: unique people over days and objects, never the sum of the days';
  `pooled_uniques`: the same over days drawn from one audience pool.
- `RunningTotal`: a count kept by daily changes (followers from follows and unfollows).
- `Lifetime`: the days an object (a campaign, an ad, a story) exists or delivers.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import TypeVar

_SCALE = float(2**64)
K = TypeVar("K")


def unit(*parts: object) -> float:
    """A stable number in [0, 1) for the given key parts."""
    key = "|".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / _SCALE


def draws(*parts: object) -> random.Random:
    """A generator seeded from the key parts: one hash for a whole object's numbers."""
    return random.Random(int(unit(*parts) * _SCALE))


def between(low: float, high: float, *parts: object) -> float:
    return low + (high - low) * unit(*parts)


def seeded_random(*parts: object) -> random.Random:
    """A generator seeded from the SHA-256 of the ':'-joined key parts."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split an integer total by weights (largest remainder), so the parts sum to it."""
    if total <= 0 or not weights:
        return [0 for _ in weights]
    weight_sum = sum(weights)
    if weight_sum <= 0:
        parts = [0 for _ in weights]
        parts[0] = total
        return parts
    raw = [total * w / weight_sum for w in weights]
    parts = [int(r) for r in raw]
    rest = total - sum(parts)
    by_remainder = sorted(range(len(raw)), key=lambda i: (raw[i] - parts[i], -i), reverse=True)
    for i in by_remainder[:rest]:
        parts[i] += 1
    return parts


def apportion_map(total: int, weights: Mapping[K, float]) -> dict[K, int]:
    """`apportion` by key: the total split over the keys of `weights`, in their order."""
    return dict(zip(weights, apportion(total, list(weights.values())), strict=True))


def split_rounded(total: float, weights: Sequence[float], digits: int = 2) -> list[float]:
    """`total` (an amount of money) split by weights, each part rounded to `digits` and
    the last one the rest, so the parts sum to the total as a cart's discount does."""
    whole = sum(weights)
    parts: list[float] = []
    left = total
    for i, weight in enumerate(weights):
        part = left if i == len(weights) - 1 else round(total * weight / whole, digits)
        left = round(left - part, digits)
        parts.append(part)
    return parts


def split_by_weights(
    value: float, weights: Mapping[K, float], digits: int | None = None
) -> dict[K, float]:
    """`value` split over the keys of `weights`: whole parts that sum to it (`apportion`,
    as floats) or, with `digits` (money), each part its share rounded to them."""
    if digits is None:
        parts = apportion(int(value), list(weights.values()))
        return dict(zip(weights, map(float, parts), strict=True))
    total = sum(weights.values())
    return {key: round(value * weight / total, digits) for key, weight in weights.items()}


def split_cumulative(total: int, fractions: Sequence[float]) -> list[int]:
    """Non-negative parts of `total` by cumulative shares `fractions` (ending at 1.0),
    summing exactly to total: part i = floor(total * F_i) - floor(total * F_i-1)."""
    parts = []
    previous = 0
    for fraction in fractions:
        bound = int(total * fraction + 1e-9)
        parts.append(bound - previous)
        previous = bound
    parts[-1] += total - previous
    return parts


def split_figures(
    figures: Mapping[str, float], weights: Sequence[float], fractional: Collection[str]
) -> list[dict[str, float]]:
    """A set of figures split by weights, one dict per weight: whole numbers exactly
    (`split_cumulative`: the parts sum to the figure), the `fractional` ones (amounts)
    each part its share to the cent."""
    if not weights:
        return []
    total = sum(weights) or 1.0
    shares = [w / total for w in weights]
    cumulative = list(accumulate(shares))
    columns = {
        name: [round(value * share, 2) for share in shares]
        if name in fractional
        else split_cumulative(round(value), cumulative)
        for name, value in figures.items()
    }
    return [{name: float(c[i]) for name, c in columns.items()} for i in range(len(weights))]


def period_uniques(
    daily: Iterable[tuple[Hashable, date, float]], overlap: float, object_overlap: float
) -> int:
    """Unique people over several objects' days from each (object, day)'s uniques (an
    ad's daily reach): their sum shrunk as people come back over the days (1 + overlap x
    ln days) and meet several of the objects (1 + object_overlap x (objects - 1))."""
    total = 0.0
    objects: set[Hashable] = set()
    days: set[date] = set()
    for obj, day, count in daily:
        total += count
        objects.add(obj)
        days.add(day)
    if not days:
        return 0
    damp = (1 + overlap * math.log(len(days))) * (1 + object_overlap * (len(objects) - 1))
    return round(total / damp)


def pooled_uniques(daily: Sequence[int], pool: int) -> int:
    """Unique people over several days from each day's uniques, all from an audience
    `pool`: each day reaches a share n_d / pool of it and a person counts once, so the
    span reaches pool x (1 - prod(1 - n_d / pool)): at least the largest day and, once
    two days reached anyone, less than their sum."""
    largest, total = max(daily), sum(daily)
    if total == largest:  # at most one day with anyone reached
        return total
    pool = max(pool, largest + 1)
    missed = math.prod(1 - n / pool for n in daily)
    return min(total - 1, max(largest, int(pool * (1 - missed))))


class RunningTotal:
    """A count kept by daily changes: `initial` before `start`, then plus `change(day)`
    for each day from `start`. Sums are memoised and extended under a lock (an app and a
    test thread may read the same emulator at once)."""

    def __init__(self, start: date, initial: int, change: Callable[[date], int]) -> None:
        self.start = start
        self.initial = initial
        self.change = change
        self._sums: list[int] = []
        self._lock = threading.Lock()

    def through(self, day: date) -> int:
        """The count at the end of `day` (`initial` for a day before `start`)."""
        index = (day - self.start).days
        if index < 0:
            return self.initial
        with self._lock:
            while len(self._sums) <= index:
                previous = self._sums[-1] if self._sums else self.initial
                self._sums.append(previous + self.change(self.start + timedelta(len(self._sums))))
        return self._sums[index]


@dataclass(frozen=True)
class DailySeries:
    """A daily count: (level + trend x days since `start`) x weekly season x yearly wave
    x noise, rounded. Noise is uniform in [noise_low, noise_high], drawn from `key` and
    the day, so a day's value never depends on which other days were asked."""

    start: date
    level: float
    trend_per_day: float = 0.0
    weekly: tuple[float, ...] = (1.0,) * 7  # Monday..Sunday multipliers
    yearly_amplitude: float = 0.0  # 1 + a x sin(2 pi x day of year / 365)
    noise_low: float = 1.0
    noise_high: float = 1.0
    key: tuple[object, ...] = ()

    def expected(self, day: date) -> float:
        """The value before noise (0 before `start`)."""
        index = (day - self.start).days
        if index < 0:
            return 0.0
        value = (self.level + self.trend_per_day * index) * self.weekly[day.weekday()]
        if self.yearly_amplitude:
            value *= 1 + self.yearly_amplitude * math.sin(
                2 * math.pi * day.timetuple().tm_yday / 365.0
            )
        return value

    def value(self, day: date) -> int:
        if day < self.start:
            return 0
        noise = between(self.noise_low, self.noise_high, *self.key, day)
        return round(self.expected(day) * noise)


@dataclass(frozen=True)
class Lifetime:
    """When an object exists: from `start` (inclusive) until `end` (inclusive for days,
    exclusive for instants); None: still running."""

    start: date
    end: date | None = None

    def active_on(self, day: date) -> bool:
        return day >= self.start and (self.end is None or day <= self.end)

    def overlap(self, other: Lifetime) -> Lifetime:
        """Both at once (a campaign's ad set running within its campaign's dates)."""
        ends = [d for d in (self.end, other.end) if d is not None]
        return Lifetime(max(self.start, other.start), min(ends) if ends else None)


def live_at(posted: datetime, lifetime: timedelta | None, at: datetime) -> bool:
    """Visible at `at`: posted by then and, when it expires, not yet expired."""
    return posted <= at and (lifetime is None or at < posted + lifetime)
