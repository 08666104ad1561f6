"""The sandbox Page's numbers: daily Page insights, follower counts, posts and reels with
their lifetime insights, all functions of the seed, the day and the object (data.yaml).

Days are Pacific days (the Page's insights days). A unique count over n days is the sum
of the days' uniques shrunk by their overlap (`overlap` x ln n), so a period's reach is
never the sum of its days' reach, and organic + paid uniques exceed the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from metrics_connect.sandbox.accounts import FACEBOOK_PAGE_ID, FACEBOOK_PAGE_NAME
from metrics_connect.sandbox.kit import seeded
from metrics_connect.sandbox.kit.calendar import LocalDays
from metrics_connect.sandbox.kit.spec import load_spec

PACKAGE = __package__ or "metrics_connect.networks.facebook.emulator"
DEFAULT_SEED = 15
HORIZON = date(2028, 12, 31)  # the last day posts and reels are generated for
Range = tuple[float, float]


@dataclass(frozen=True)
class PageSpec:
    category: str
    timezone: str
    start: date
    followers_at_start: int
    likes_per_follower: float


@dataclass(frozen=True)
class SeriesSpec:
    level: float
    trend_per_day: float = 0.0
    weekly: tuple[float, ...] = (1.0,) * 7
    noise: Range = (1.0, 1.0)


@dataclass(frozen=True)
class ContentSpec:
    per_day: float
    reach: Range
    reactions_per_reach: Range
    comments_per_reach: Range
    shares_per_reach: Range
    settle_days: int
    types: dict[str, float] = field(default_factory=lambda: {"video_reel": 1.0})
    boosted_share: float = 0.0
    views_per_reach: Range = (1.0, 1.0)
    paid_reach_share: Range = (0.0, 0.0)
    clicks_per_reach: Range = (0.0, 0.0)
    video_views_per_reach: Range = (0.0, 0.0)
    plays_per_reach: Range = (0.0, 0.0)
    avg_watch_ms: Range = (0.0, 0.0)


@dataclass(frozen=True)
class Content:
    """A post or a reel: its settled lifetime figures, grown to `now` by `at`."""

    id: str
    kind: str  # "post" | "reel"
    created: datetime
    status_type: str
    boosted: bool
    message: str
    settled: dict[str, int]
    settle_days: int

    def at(self, now: datetime) -> dict[str, int]:
        """Figures as of `now`: they grow like a square root over the first days."""
        age = (now - self.created).total_seconds() / 86400
        grown = min(1.0, max(0.0, age) / self.settle_days) ** 0.5
        return {k: round(v * grown) for k, v in self.settled.items()}


def _load(key: str, shape: Any) -> Any:
    return load_spec(PACKAGE, "data.yaml", key, shape)


class PageData:
    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.seed = seed
        self.page_id = FACEBOOK_PAGE_ID
        self.name = FACEBOOK_PAGE_NAME
        self.page: PageSpec = _load("page", PageSpec)
        self.series: dict[str, SeriesSpec] = _load("series", dict[str, SeriesSpec])
        self.shares: dict[str, Range] = _load("shares", dict[str, Range])
        self.overlap: float = _load("overlap", float)
        self.cities: dict[str, int] = _load("cities", dict[str, int])
        self.countries: dict[str, int] = _load("countries", dict[str, int])
        self.post_spec: ContentSpec = _load("posts", ContentSpec)
        self.reel_spec: ContentSpec = _load("reels", ContentSpec)
        self.reactions: dict[str, int] = _load("reactions", dict[str, int])
        self.days = LocalDays(self.page.timezone)
        self._followers = seeded.RunningTotal(
            self.page.start,
            self.page.followers_at_start,
            lambda day: self.daily("follows", day) - self.daily("unfollows", day),
        )

    # --- daily Page figures ---

    def daily(self, name: str, day: date) -> int:
        spec = self.series[name]
        return seeded.DailySeries(
            self.page.start,
            spec.level,
            spec.level * spec.trend_per_day,
            spec.weekly,
            noise_low=spec.noise[0],
            noise_high=spec.noise[1],
            key=(self.seed, name),
        ).value(day)

    def share(self, name: str, day: date) -> float:
        low, high = self.shares[name]
        return seeded.between(low, high, self.seed, name, day)

    def followers(self, day: date) -> int:
        """page_follows at the end of a day: the start's count plus every net follow."""
        return 0 if day < self.page.start else self._followers.through(day)

    def likes(self, day: date) -> int:
        return round(self.followers(day) * self.page.likes_per_follower)

    def views(self, day: date) -> dict[str, int]:
        """page_media_view of a day: total, organic ("0") and from ads ("1")."""
        total = self.daily("media_view", day)
        paid = round(total * self.share("paid_views", day))
        return {"total": total, "0": total - paid, "1": paid}

    def viewers(self, day: date) -> dict[str, int]:
        """page_total_media_view_unique of a day, by the same parts."""
        rate = self.share("reach_per_view", day)
        views = self.views(day)
        paid = round(views["1"] * min(1.0, rate * 1.25))
        organic = round(views["0"] * rate)
        total = max(organic, paid, round((organic + paid) * 0.94))
        return {"total": total, "0": organic, "1": paid}

    def unique_viewers(self, days: list[date]) -> dict[str, int]:
        """Unique viewers of several days, by part: the days' uniques less their overlap."""
        parts = [(d, self.viewers(d)) for d in days]
        return {
            k: seeded.period_uniques([(k, d, p[k]) for d, p in parts], self.overlap, 0)
            for k in ("total", "0", "1")
        }

    def video_views(self, day: date) -> dict[str, int]:
        total = self.daily("video_views", day)
        paid = round(total * self.share("paid_video_views", day))
        return {"total": total, "organic": total - paid, "paid": paid}

    def located(self, kind: str, day: date) -> dict[str, int]:
        """Followers by city or country at the end of a day (apportioned, zeros left out)."""
        weights = self.cities if kind == "city" else self.countries
        counts = seeded.apportion(self.followers(day), list(weights.values()))
        return {k: n for k, n in zip(weights, counts, strict=True) if n}

    # --- posts and reels ---

    def _content_of(self, kind: str, day: date, spec: ContentSpec) -> list[Content]:
        whole, part = divmod(spec.per_day, 1)
        count = int(whole) + (1 if seeded.unit(self.seed, kind, "count", day) < part else 0)
        out = []
        for i in range(count):
            rng = seeded.draws(self.seed, kind, day, i)
            created = self.days.day_start(day) + timedelta(hours=rng.uniform(7, 21))
            reach = rng.uniform(*spec.reach)
            types = list(spec.types)
            status = rng.choices(types, weights=list(spec.types.values()))[0]
            boosted = rng.random() < spec.boosted_share
            paid = reach * rng.uniform(*spec.paid_reach_share) if boosted else 0.0
            views = rng.uniform(*spec.views_per_reach)
            settled = {
                "reach": round(reach),
                "reach_paid": round(paid),
                "reach_organic": round(reach - paid * 0.9),
                "views": round(reach * views),
                "views_paid": round(paid * views),
                "comments": round(reach * rng.uniform(*spec.comments_per_reach)),
                "shares": round(reach * rng.uniform(*spec.shares_per_reach)),
                "clicks": round(reach * rng.uniform(*spec.clicks_per_reach)),
                "plays": round(reach * rng.uniform(*spec.plays_per_reach)),
                "avg_watch_ms": round(rng.uniform(*spec.avg_watch_ms)),
            }
            video = status in ("added_video", "video_reel")
            settled["video_views"] = (
                round(reach * rng.uniform(*spec.video_views_per_reach)) if video else 0
            )
            reactions = seeded.apportion(
                round(reach * rng.uniform(*spec.reactions_per_reach)),
                [w * rng.uniform(0.6, 1.4) for w in self.reactions.values()],
            )
            settled |= {f"reaction_{k}": n for k, n in zip(self.reactions, reactions, strict=True)}
            serial = (day - self.page.start).days * 10 + i
            # Post ids are {page-id}_{post-id}; reels are videos with an id of their own.
            ident = (
                f"{self.page_id}_{9 * 10**11 + serial}"
                if kind == "post"
                else str(7 * 10**14 + serial)
            )
            text = f"{kind.title()} {serial} of {self.name}"
            created = created.replace(microsecond=0)
            out.append(
                Content(ident, kind, created, status, boosted, text, settled, spec.settle_days)
            )
        return out

    @cached_property
    def _all(self) -> dict[str, list[Content]]:
        """Every post and reel up to the horizon, newest first."""
        span = range((HORIZON - self.page.start).days + 1)
        found: dict[str, list[Content]] = {}
        for kind, spec in (("post", self.post_spec), ("reel", self.reel_spec)):
            items = [
                c
                for i in span
                for c in self._content_of(kind, self.page.start + timedelta(days=i), spec)
            ]
            found[kind] = sorted(items, key=lambda c: (c.created, c.id), reverse=True)
        return found

    def published(self, kind: str, now: datetime) -> list[Content]:
        """Posts or reels published by `now`, newest first."""
        return [c for c in self._all[kind] if c.created <= now]

    def content(self, content_id: str) -> Content | None:
        return self._by_id.get(content_id)

    @cached_property
    def _by_id(self) -> dict[str, Content]:
        return {c.id: c for items in self._all.values() for c in items}

    def reaction_counts(self, figures: dict[str, int]) -> dict[str, int]:
        return {k: figures[f"reaction_{k}"] for k in self.reactions}
