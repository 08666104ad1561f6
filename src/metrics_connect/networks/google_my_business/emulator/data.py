"""The demo Business Profile's data (data.yaml): daily Performance API figures, reviews
and monthly search keyword impressions, all seeded so every run serves the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from metrics_connect.sandbox import accounts as sandbox
from metrics_connect.sandbox.kit.periods import month_start
from metrics_connect.sandbox.kit.seeded import DailySeries, between, draws
from metrics_connect.sandbox.kit.spec import load_spec

PACKAGE = __package__ or "metrics_connect.networks.google_my_business.emulator"


@dataclass(frozen=True)
class AccountSpec:
    name: str
    account_name: str
    type: str


@dataclass(frozen=True)
class LocationSpec:
    id: str
    title: str
    timezone: str
    opened: date
    lag_days: int
    kept_months: int


@dataclass(frozen=True)
class MetricSpec:
    level: float
    trend_per_day: float


@dataclass(frozen=True)
class ReviewsSpec:
    per_day: float
    rating_weights: tuple[float, ...]


@dataclass(frozen=True)
class Review:
    review_id: str
    star_rating: int
    created: date


@dataclass(frozen=True)
class LocalPost:
    post_id: str
    summary: str
    topic_type: str
    created: datetime
    updated: datetime


POST_TOPICS = ("STANDARD", "EVENT", "OFFER")
POST_SUMMARIES = (
    "New seasonal roast in store this week",
    "Live music on Saturday evening",
    "Two cappuccinos for the price of one before 10am",
    "Our baristas' latte art class is back",
    "Fresh pastries every morning from 7am",
)


class ProfileData:
    """The account, its location and what the APIs serve about it."""

    def __init__(self) -> None:
        account = load_spec(PACKAGE, "data.yaml", "account", dict[str, Any])
        self.account = AccountSpec(
            name=sandbox.BUSINESS_PROFILE_ACCOUNT_ID,
            account_name=sandbox.BUSINESS_PROFILE_ACCOUNT_NAME,
            **account,
        )
        location = load_spec(PACKAGE, "data.yaml", "location", dict[str, Any])
        adapter: TypeAdapter[LocationSpec] = TypeAdapter(LocationSpec)
        self.location = adapter.validate_python(
            {
                "id": sandbox.BUSINESS_PROFILE_LOCATION_ID.removeprefix("locations/"),
                "title": sandbox.BUSINESS_PROFILE_LOCATION_TITLE,
                **location,
            }
        )
        self.weekly: tuple[float, ...] = load_spec(
            PACKAGE, "data.yaml", "weekly", tuple[float, ...]
        )
        self.metrics: dict[str, MetricSpec] = load_spec(
            PACKAGE, "data.yaml", "metrics", dict[str, MetricSpec]
        )
        self.reviews_spec: ReviewsSpec = load_spec(PACKAGE, "data.yaml", "reviews", ReviewsSpec)
        self.keywords: tuple[str, ...] = load_spec(
            PACKAGE, "data.yaml", "keywords", tuple[str, ...]
        )
        self.tz = ZoneInfo(self.location.timezone)

    @property
    def location_name(self) -> str:
        return f"locations/{self.location.id}"

    @property
    def account_location(self) -> str:
        """The v4 name of the location (reviews): accounts/{a}/locations/{l}."""
        return f"{self.account.name}/{self.location_name}"

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def last_served_day(self, now: datetime) -> date:
        """The most recent day the Performance API has figures for."""
        return self.today(now) - timedelta(days=self.location.lag_days)

    def first_kept_day(self, now: datetime) -> date:
        """The oldest day the Performance API still answers (kept_months back)."""
        return month_start(self.today(now), -self.location.kept_months)

    @cached_property
    def _series(self) -> dict[str, DailySeries]:
        return {
            name: DailySeries(
                start=self.location.opened,
                level=spec.level,
                trend_per_day=spec.trend_per_day,
                weekly=self.weekly,
                yearly_amplitude=0.12,
                noise_low=0.75,
                noise_high=1.25,
                key=("gbp", self.location.id, name),
            )
            for name, spec in self.metrics.items()
        }

    def daily_value(self, metric: str, day: date, now: datetime) -> int | None:
        """The metric's count on the day; None where the API has no figure (too recent)."""
        if day > self.last_served_day(now):
            return None
        return self._series[metric].value(day)

    def reviews(self, now: datetime) -> list[Review]:
        """Every review written by `now`, newest first (the API's default order)."""
        spec = self.reviews_spec
        out: list[Review] = []
        day = self.location.opened
        last = self.today(now)
        carried = 0.0
        while day <= last:
            carried += spec.per_day * between(0.3, 1.7, "gbp-reviews", self.location.id, day)
            while carried >= 1.0:
                carried -= 1.0
                rng = draws("gbp-review", self.location.id, day, len(out))
                rating = rng.choices(range(1, 6), weights=spec.rating_weights)[0]
                out.append(Review(f"r{day:%Y%m%d}{len(out):05d}", rating, day))
            day += timedelta(days=1)
        return out[::-1]

    def keyword_impressions(self, keyword: str, year: int, month: int) -> int:
        """A keyword's impressions in a month (values under 15 are reported as a threshold)."""
        rank = self.keywords.index(keyword)
        base = 900 / (rank + 1) ** 1.1
        return round(
            base * between(0.6, 1.4, "gbp-keyword", self.location.id, keyword, year, month)
        )

    def local_posts(self, now: datetime) -> list[LocalPost]:
        """The location's posts published by `now`, newest first: one every 4 to 9 days."""
        out: list[LocalPost] = []
        day = self.location.opened
        index = 0
        while True:
            rng = draws("gbp-post", self.location.id, index)
            day += timedelta(days=rng.randint(4, 9))
            created = datetime.combine(day, time(rng.randint(8, 19), rng.randint(0, 59)), self.tz)
            if created > now:
                return out[::-1]
            edited = created + timedelta(hours=rng.choice((0, 0, 2, 26)))
            out.append(
                LocalPost(
                    post_id=f"{day:%Y%m%d}{index:04d}",
                    summary=POST_SUMMARIES[rng.randrange(len(POST_SUMMARIES))],
                    topic_type=POST_TOPICS[rng.randrange(len(POST_TOPICS))],
                    created=created,
                    updated=min(edited, now),
                )
            )
            index += 1
