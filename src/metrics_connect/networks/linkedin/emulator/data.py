"""The LinkedIn Pages emulator's data: an organization's follower gains and count, its
posts with their daily statistics (impressions decaying from publication, actions as
shares of impressions), page views, and current followers by facet. The page's daily
share statistics are the sums of its posts' days, so a post's lifetime figures and the
page's days agree."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any

from metrics_connect.sandbox.kit.seeded import apportion, between, draws
from metrics_connect.sandbox.kit.spec import _read

PACKAGE = "metrics_connect.networks.linkedin.emulator"
ACTIONS = ("clickCount", "likeCount", "commentCount", "shareCount")


@dataclass(frozen=True)
class Post:
    number: int
    urn: str
    published: datetime
    commentary: str

    @property
    def day(self) -> date:
        return self.published.date()

    @property
    def created_ms(self) -> int:
        return int(self.published.timestamp() * 1000)


class PageData:
    def __init__(self) -> None:
        self.spec: dict[str, Any] = _read(PACKAGE, "data.yaml")
        self.org: dict[str, Any] = self.spec["organization"]
        self.org_id = int(self.org["id"])
        self.org_urn = f"urn:li:organization:{self.org_id}"
        self.created = date.fromisoformat(str(self.org["created"]))
        self._totals: dict[date, int] = {}

    @cached_property
    def posts(self) -> list[Post]:
        spec = self.spec["posts"]
        first = date.fromisoformat(str(spec["first"]))
        out = []
        for n in range(2000):
            day = first + timedelta(days=n * int(spec["every_days"]))
            hour = 9 + int(between(0, 9, "hour", n))
            published = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            commentary = spec["commentaries"][n % len(spec["commentaries"])]
            out.append(Post(n, f"urn:li:share:{7100000000000000000 + n}", published, commentary))
        return out

    def posts_until(self, now: datetime) -> list[Post]:
        return [p for p in self.posts if p.published <= now]

    # --- followers ---

    def follower_gains(self, day: date) -> tuple[int, int]:
        """(organic, paid) follower gains of a UTC day."""
        if day <= self.created:
            return 0, 0
        spec = self.spec["followers"]
        rng = draws("followers", day)
        level = rng.uniform(*spec["organic_per_day"]) * self.spec["weekly"][day.weekday()]
        organic = round(level * (1 + (day - self.created).days / 1500))
        paid = round(organic * rng.uniform(*spec["paid_share"]))
        return organic, paid

    def unfollows(self, day: date) -> int:
        organic, paid = self.follower_gains(day)
        low, high = self.spec["followers"]["unfollow_share"]
        return round((organic + paid) * between(low, high, "unfollows", day))

    def followers_total(self, day: date) -> int:
        """Followers at the end of a UTC day (networkSizes' firstDegreeSize)."""
        if day <= self.created:
            return int(self.org["followers_before"])
        known = max((d for d in self._totals if d <= day), default=self.created)
        total = self._totals.get(known, int(self.org["followers_before"]))
        while known < day:
            known += timedelta(days=1)
            organic, paid = self.follower_gains(known)
            total += organic + paid - self.unfollows(known)
            self._totals[known] = total
        return total

    def demographics(self, facet: str, now: datetime) -> dict[str, tuple[int, int]]:
        """Current (organic, paid) followers per value of a facet."""
        total = self.followers_total(now.date())
        weights = self.spec["demographics"][facet]
        out = {}
        for value, part in zip(weights, apportion(total, list(weights.values())), strict=True):
            paid = round(part * between(0.04, 0.12, "paid", facet, value))
            out[value] = (part - paid, paid)
        return out

    # --- posts and the page's days ---

    def post_day(self, post: Post, day: date) -> dict[str, int]:
        return _post_day(self, post.number, day)

    def share_day(self, day: date) -> dict[str, int]:
        """The page's share statistics of a UTC day: the sum of its posts' days."""
        lifetime = int(self.spec["posts"]["lifetime_days"])
        out = dict.fromkeys(("impressionCount", "uniqueImpressionsCount", *ACTIONS), 0)
        for post in self.posts:
            if post.day > day:
                break
            if (day - post.day).days < lifetime:
                for name, value in self.post_day(post, day).items():
                    out[name] += value
        return out

    def post_lifetime(self, post: Post, now: datetime) -> dict[str, int]:
        lifetime = int(self.spec["posts"]["lifetime_days"])
        out = dict.fromkeys(("impressionCount", "uniqueImpressionsCount", *ACTIONS), 0)
        day = post.day
        while day <= now.date() and (day - post.day).days < lifetime:
            for name, value in self.post_day(post, day).items():
                out[name] += value
            day += timedelta(days=1)
        return out

    def page_views(self, day: date) -> tuple[int, int]:
        """(page views, unique page views) of a UTC day."""
        if day <= self.created:
            return 0, 0
        level = between(*self.spec["page_views_per_day"], "views", day)
        views = round(level * self.spec["weekly"][day.weekday()])
        return views, round(views * between(0.55, 0.75, "unique views", day))


def engagement(stats: dict[str, int]) -> float:
    """LinkedIn's engagement: (clicks + likes + comments + shares) / impressions."""
    impressions = stats.get("impressionCount", 0)
    return sum(stats.get(a, 0) for a in ACTIONS) / impressions if impressions else 0.0


@lru_cache(maxsize=100_000)
def _post_day(data: PageData, number: int, day: date) -> dict[str, int]:
    post = data.posts[number]
    spec = data.spec["posts"]
    age = (day - post.day).days
    if age < 0 or age >= int(spec["lifetime_days"]):
        return {}
    launch = between(*spec["launch_impressions"], "launch", number)
    half_life = between(*spec["half_life_days"], "half-life", number)
    rng = draws("post-day", number, day)
    impressions = round(launch * math.pow(0.5, age / half_life) * rng.uniform(0.85, 1.15))
    out = {"impressionCount": impressions}
    out["uniqueImpressionsCount"] = round(impressions * between(*spec["unique_share"], number))
    for action in ACTIONS:
        share = between(*spec["rates"][action], action, number)
        out[action] = round(impressions * share * rng.uniform(0.8, 1.2))
    return out
