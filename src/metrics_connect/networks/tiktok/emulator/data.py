"""The sandbox creator's numbers from data.yaml: daily account figures and videos.

Days are UTC (TikTok's business account metrics are UTC days). Today is partial.
Followers are a stock: the start count plus each day's gains minus losses. A video's
lifetime counts grow with its age (views saturate with a half-life), so a listing
gives the video's counts as of now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

from metrics_connect.sandbox.kit.calendar import LocalDays
from metrics_connect.sandbox.kit.seeded import DailySeries, between
from metrics_connect.sandbox.kit.spec import load_document


class Series(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    level: float
    trend_per_day: float = 0.0


class DataSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    seed: str
    account: dict[str, Any]
    followers_gained: Series
    unfollow_share: float
    weekly: tuple[float, ...]
    profile_views: Series
    video_views: Series
    per_view: dict[str, float]
    every_days: tuple[int, int]
    views_scale: float
    half_life_days: float
    duration_seconds: tuple[int, int]
    captions: tuple[str, ...]


@dataclass(frozen=True)
class Video:
    item_id: str
    posted: datetime
    caption: str
    weight: float
    duration: int


class CreatorData:
    def __init__(self, spec: DataSpec) -> None:
        self.spec = spec
        self.account = spec.account
        self.open_id = str(spec.account["open_id"])
        self.days = LocalDays(str(spec.account["timezone"]))
        self.first_day = date.fromisoformat(str(spec.account["first_day"]))
        self._followers: dict[date, int] = {}

    def _series(self, name: str, series: Series) -> DailySeries:
        return DailySeries(
            start=self.first_day,
            level=series.level,
            trend_per_day=series.trend_per_day,
            weekly=self.spec.weekly,
            yearly_amplitude=0.1,
            noise_low=0.75,
            noise_high=1.25,
            key=(self.spec.seed, name),
        )

    def day_metrics(self, day: date, at: datetime) -> dict[str, int] | None:
        """The account's figures of `day` as known at `at` (None before the account)."""
        share = self.days.elapsed_share(day, at)
        if share <= 0 or day < self.first_day:
            return None
        views = self._series("video_views", self.spec.video_views).value(day)
        out = {
            "profile_views": self._series("profile_views", self.spec.profile_views).value(day),
            "video_views": views,
            **{k: round(views * rate) for k, rate in self.spec.per_view.items()},
        }
        out = {k: round(v * share) for k, v in out.items()}
        out["followers_count"] = self.followers_at(day, at)
        return out

    def _net_gain(self, day: date) -> int:
        gained = self._series("followers", self.spec.followers_gained).value(day)
        return gained - round(gained * self.spec.unfollow_share)

    def followers_at(self, day: date, at: datetime) -> int:
        """Followers at the end of `day` (or at `at` when that is sooner)."""
        if day < self.first_day:
            return int(self.spec.account["followers_at_start"])
        before = day - timedelta(days=1)
        if before not in self._followers:
            total = int(self.spec.account["followers_at_start"])
            cursor = self.first_day
            while cursor <= before:
                total += self._net_gain(cursor)
                self._followers[cursor] = total
                cursor += timedelta(days=1)
        base = self._followers.get(before, int(self.spec.account["followers_at_start"]))
        return base + round(self._net_gain(day) * self.days.elapsed_share(day, at))

    @cached_property
    def all_videos(self) -> tuple[Video, ...]:
        """Every video until 2030, oldest first (listings cut them at the clock)."""
        out = []
        day, n = self.first_day, 0
        low, high = self.spec.every_days
        while day.year < 2030:
            hour = between(8, 22, self.spec.seed, "hour", n)
            posted = datetime.combine(day, time(0), UTC) + timedelta(seconds=round(hour * 3600))
            out.append(
                Video(
                    item_id=str(7_200_000_000_000_000_000 + n * 7919),
                    posted=posted,
                    caption=self.spec.captions[n % len(self.spec.captions)],
                    weight=between(0.2, 2.5, self.spec.seed, "weight", n) ** 1.5,
                    duration=round(between(*self.spec.duration_seconds, self.spec.seed, "dur", n)),
                )
            )
            n += 1
            day += timedelta(days=round(between(low, high, self.spec.seed, "gap", n)))
        return tuple(out)

    def videos(self, at: datetime) -> list[Video]:
        """Videos posted by `at`, newest first (as the listing returns them)."""
        return sorted(
            (v for v in self.all_videos if v.posted <= at), key=lambda v: v.posted, reverse=True
        )

    def video_stats(self, video: Video, at: datetime) -> dict[str, int]:
        """A video's lifetime counts as of `at`."""
        age = max(0.0, (at - video.posted).total_seconds() / 86400)
        grown = 1 - math.pow(0.5, age / self.spec.half_life_days)
        views = round(self.spec.views_scale * video.weight * grown)
        stats = {"video_views": views}
        for name, rate in self.spec.per_view.items():
            stats[name] = round(
                views * rate * between(0.7, 1.3, self.spec.seed, name, video.item_id)
            )
        stats["reach"] = round(views * 0.83)
        return stats


def load_data() -> CreatorData:
    return CreatorData(load_document(__package__ or "", "data.yaml", DataSpec))
