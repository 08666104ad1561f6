"""The emulated business account's pins and their daily numbers, from data.yaml.

A pin's day is split by app type; engagement is saves + pin clicks + outbound clicks +
closeups (Pinterest's "total engagement"). The account's analytics sum its pins' days,
split by app type or pin format when asked. Followers grow daily from the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any

from metrics_connect.sandbox.kit.seeded import apportion, between, draws
from metrics_connect.sandbox.kit.spec import load_spec

SPEC = "data.yaml"
ENGAGEMENT_PARTS = ("SAVE", "PIN_CLICK", "OUTBOUND_CLICK", "CLOSEUP")
COUNTED = ("IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK", "ENGAGEMENT")
RATES = {
    "ENGAGEMENT_RATE": "ENGAGEMENT",
    "PIN_CLICK_RATE": "PIN_CLICK",
    "SAVE_RATE": "SAVE",
    "OUTBOUND_CLICK_RATE": "OUTBOUND_CLICK",
}


@dataclass(frozen=True)
class User:
    id: str
    username: str
    business_name: str
    website_url: str
    followers_at_start: int
    follower_gain: tuple[float, float]
    following_count: int


@dataclass(frozen=True)
class BoardSpec:
    id: str
    name: str
    created: date


@dataclass(frozen=True)
class PinSpec:
    start: date
    every_days: int
    lifetime_days: int
    peak: float
    decay: float
    weekly: tuple[float, float, float, float, float, float, float]
    titles: tuple[str, ...]
    formats: tuple[str, ...]


@dataclass(frozen=True)
class Pin:
    id: str
    number: int
    created_at: datetime
    title: str
    pin_format: str
    board: BoardSpec

    @property
    def day(self) -> date:
        return self.created_at.date()


USER: User = load_spec(__package__, SPEC, "user", User)
BOARDS: tuple[BoardSpec, ...] = load_spec(__package__, SPEC, "boards", tuple[BoardSpec, ...])
PINS: PinSpec = load_spec(__package__, SPEC, "pins", PinSpec)
APP_TYPES: dict[str, float] = load_spec(__package__, SPEC, "app_types", dict[str, float])
METRICS: tuple[tuple[str, str, float, float], ...] = load_spec(
    __package__, SPEC, "metrics", tuple[tuple[str, str, float, float], ...]
)


@cache
def pin(number: int) -> Pin:
    day = PINS.start + timedelta(days=number * PINS.every_days)
    hour = 9 + number % 10
    boards = [b for b in BOARDS if b.created <= day]
    return Pin(
        id=str(960000000000000000 + number),
        number=number,
        created_at=datetime.combine(day, time(hour, 15), UTC),
        title=PINS.titles[number % len(PINS.titles)],
        pin_format=PINS.formats[number % len(PINS.formats)],
        board=boards[number % len(boards)],
    )


def pins_until(at: datetime) -> list[Pin]:
    """Every pin published by `at`, newest first (as GET /v5/pins lists them)."""
    count = (at.date() - PINS.start).days // PINS.every_days + 1
    found = [pin(n) for n in range(max(0, count))]
    return sorted(
        (p for p in found if p.created_at <= at), key=lambda p: p.created_at, reverse=True
    )


def pin_by_id(pin_id: str) -> Pin | None:
    number = int(pin_id) - 960000000000000000 if pin_id.isdigit() else -1
    return pin(number) if 0 <= number < 100_000 else None


@lru_cache(maxsize=131072)
def pin_day(number: int, day: date) -> dict[str, dict[str, int]]:
    """One pin's metrics of one UTC day by app type (empty outside its lifetime)."""
    p = pin(number)
    age = (day - p.day).days
    if age < 0 or age >= PINS.lifetime_days:
        return {}
    weight = between(0.4, 1.8, "pinterest", "pin", p.id)
    noise = between(0.85, 1.15, "pinterest", "day", p.id, day)
    impressions = round(PINS.peak * weight * PINS.decay**age * PINS.weekly[day.weekday()] * noise)
    rng = draws("pinterest", p.id, day)
    shares = [w * rng.uniform(0.8, 1.2) for w in APP_TYPES.values()]
    out: dict[str, dict[str, int]] = {}
    for app, n in zip(APP_TYPES, apportion(impressions, shares), strict=True):
        values = {"IMPRESSION": n}
        for metric, base, low, high in METRICS:
            values[metric] = round(values[base] * rng.uniform(low, high))
        values["ENGAGEMENT"] = sum(values[m] for m in ENGAGEMENT_PARTS)
        out[app] = values
    return out


def pins_alive(day: date) -> range:
    """Numbers of the pins that may deliver on `day`."""
    last = (day - PINS.start).days // PINS.every_days
    first = max(0, last - PINS.lifetime_days // PINS.every_days - 1)
    return range(first, last + 1)


@lru_cache(maxsize=8192)
def account_day(day: date, split: str) -> dict[str, dict[str, int]]:
    """The account's metrics of a day, by split value ("all" without a split)."""
    out: dict[str, dict[str, int]] = {}
    for number in pins_alive(day):
        for app, values in pin_day(number, day).items():
            key = {"APP_TYPE": app, "PIN_FORMAT": pin(number).pin_format}.get(split, "all")
            sums = out.setdefault(key, dict.fromkeys(COUNTED, 0))
            for metric in COUNTED:
                sums[metric] += values[metric]
    return out


def pin_totals(number: int, day: date) -> dict[str, int]:
    """A pin's metrics of a day, every app type together."""
    out = dict.fromkeys(COUNTED, 0)
    for values in pin_day(number, day).values():
        for metric in COUNTED:
            out[metric] += values[metric]
    return out


def followers(at: datetime) -> int:
    days = (at.date() - PINS.start).days
    if days < 0:
        return USER.followers_at_start
    level, trend = USER.follower_gain
    return round(USER.followers_at_start + level * days + trend * days * days / 2)


def with_rates(values: dict[str, int], asked: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {m: values[m] for m in asked if m in values}
    for rate, part in RATES.items():
        if rate in asked and values.get("IMPRESSION"):
            out[rate] = values[part] / values["IMPRESSION"]
    return out
