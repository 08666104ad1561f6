"""The demo channel's data: uploads, and every upload's daily activity from a seeded
spec (data.yaml), in Pacific-time days as YouTube Analytics counts them.

A day's figures arrive late, as YouTube's do: the last two days are missing, the one
before is partial, older days are final. Channel and video statistics (the Data API's
lifetime counts) add up every day through yesterday, arrived or not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache, partial
from typing import Any

from metrics_connect.sandbox.kit.calendar import LocalDays
from metrics_connect.sandbox.kit.seeded import apportion_map, between, draws
from metrics_connect.sandbox.kit.spec import load_spec

PACKAGE = "metrics_connect.networks.youtube.emulator"
TIMEZONE = "America/Los_Angeles"
SHORTS = "SHORTS"
VIDEO_ON_DEMAND = "VIDEO_ON_DEMAND"
ACTIONS = ("likes", "dislikes", "comments", "shares", "subscribersGained", "subscribersLost")
# Counted per upload and day; watchedViews = views x the share of the upload each watched.
COUNTS = ("views", *ACTIONS, "estimatedMinutesWatched")
# How much of a day has arrived, by days before today (Pacific); older days: all of it.
ARRIVED = {0: 0.0, 1: 0.0, 2: 0.7}
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _spec(key: str) -> Any:
    return load_spec(PACKAGE, "data.yaml", key, dict[str, Any])


def video_id(index: int) -> str:
    rng = draws("youtube-video-id", index)
    return "".join(rng.choice(_ALPHABET) for _ in range(11))


@dataclass(frozen=True)
class Upload:
    id: str
    index: int
    title: str
    published: date
    content_type: str
    duration_seconds: int
    launch_views: float
    half_life_days: float
    watched_share: float
    rates: dict[str, float]

    def published_at(self) -> str:
        return f"{self.published.isoformat()}T16:00:00Z"


@dataclass(frozen=True)
class Cell:
    """One upload's (or a sum of uploads') activity on one day."""

    views: int = 0
    likes: int = 0
    dislikes: int = 0
    comments: int = 0
    shares: int = 0
    subscribersGained: int = 0
    subscribersLost: int = 0
    estimatedMinutesWatched: int = 0
    # Views weighted by the share of the upload each watched (for averageViewPercentage).
    watched_views: float = 0.0

    def __add__(self, other: Cell) -> Cell:
        return Cell(
            **{name: getattr(self, name) + getattr(other, name) for name in (*COUNTS,)},
            watched_views=self.watched_views + other.watched_views,
        )


class ChannelData:
    def __init__(self) -> None:
        self.channel = _spec("channel")
        self.uploads_spec = _spec("uploads")
        self.audience = _spec("audience")
        self.countries: dict[str, list[float]] = _spec("countries")
        self.demographics: dict[str, dict[str, float]] = _spec("demographics")
        self.days = LocalDays(TIMEZONE)
        self.channel_id = str(self.channel["id"])
        self.title = str(self.channel["snippet"]["title"])
        self.uploads_playlist = "UU" + self.channel_id[2:]
        self.first_day = date.fromisoformat(str(self.uploads_spec["first"]))

    # --- uploads ---

    def upload(self, index: int) -> Upload:
        spec, audience = self.uploads_spec, self.audience
        short = index % int(spec["shorts_every"]) == int(spec["shorts_every"]) - 1
        rng = draws("youtube-upload", index)
        titles = spec["titles"]
        title = titles[index % len(titles)]
        if index >= len(titles):
            title = f"{title} (part {index // len(titles) + 1})"
        if short:
            title = f"{title} #shorts"
        prefix = "shorts_" if short else ""
        return Upload(
            id=video_id(index),
            index=index,
            title=title,
            published=self.first_day + timedelta(days=index * int(spec["every_days"])),
            content_type=SHORTS if short else VIDEO_ON_DEMAND,
            duration_seconds=int(rng.uniform(*audience[f"{prefix}duration_seconds"])),
            launch_views=rng.uniform(*audience[f"{prefix}launch_views"]),
            half_life_days=rng.uniform(*audience["half_life_days"]),
            watched_share=rng.uniform(*audience[f"{prefix}watched_share"]),
            rates={name: rng.uniform(*audience["rates"][name]) for name in ACTIONS},
        )

    @cached_property
    def _all_uploads(self) -> list[Upload]:
        # Enough uploads for years of clock; each is listed once published.
        return [self.upload(i) for i in range(400)]

    def uploads(self, through: date) -> list[Upload]:
        """Uploads published by `through`, oldest first."""
        return [u for u in self._all_uploads if u.published <= through]

    def by_id(self) -> dict[str, Upload]:
        return {u.id: u for u in self._all_uploads}

    # --- days ---

    def today(self, now: datetime) -> date:
        return self.days.day_of(now)

    def arrived_share(self, day: date, now: datetime) -> float:
        return ARRIVED.get((self.today(now) - day).days, 1.0 if day < self.today(now) else 0.0)

    # --- activity ---

    def cell(self, upload: Upload, day: date, share: float = 1.0) -> Cell:
        full = _full_cell(self, upload.index, day)
        if share >= 1.0:
            return full
        views = int(full.views * share)
        return _derive(upload, day, views)

    def day_cells(self, day: date, now: datetime) -> list[tuple[Upload, Cell]]:
        """Each published upload's arrived activity on `day` (empty if none arrived)."""
        share = self.arrived_share(day, now)
        if share <= 0:
            return []
        return [(u, self.cell(u, day, share)) for u in self.uploads(day)]

    def country_split(self, day: date, cell: Cell) -> dict[str, Cell]:
        """A day's views and watch time by country: weights that drift a little daily."""
        countries = self.countries
        drift = {c: w * between(0.8, 1.2, "yt-country", c, day) for c, (w, _) in countries.items()}
        views = apportion_map(cell.views, drift)
        stay = {c: v * countries[c][1] for c, v in views.items()}
        minutes = apportion_map(cell.estimatedMinutesWatched, stay)
        return {c: Cell(views=views[c], estimatedMinutesWatched=minutes[c]) for c in countries}

    def demographic_split(self, day: date, views: int) -> dict[tuple[str, str], int]:
        """A day's signed-in views by (ageGroup, gender)."""
        weights = {
            (a, g): w * between(0.85, 1.15, "yt-demo", a, g, day)
            for a, by_gender in self.demographics.items()
            for g, w in by_gender.items()
        }
        # About 70% of views are by signed-in viewers whose age and gender YouTube knows.
        return apportion_map(int(views * 0.7), weights)

    # --- lifetime statistics (Data API) ---

    def _through_yesterday(
        self, first: date, now: datetime, day_cell: Callable[[date], Cell]
    ) -> Cell:
        total, day, today = Cell(), first, self.today(now)
        while day < today:
            total, day = total + day_cell(day), day + timedelta(days=1)
        return total

    def lifetime(self, upload: Upload, now: datetime) -> Cell:
        return self._through_yesterday(upload.published, now, partial(self.cell, upload))

    def channel_statistics(self, now: datetime) -> dict[str, int]:
        """Lifetime counts through yesterday (Pacific), as channels.list gives them now."""
        total = self._through_yesterday(self.first_day, now, partial(_channel_day, self))
        return {
            "viewCount": int(self.channel["views_before"]) + total.views,
            "subscriberCount": int(self.channel["subscribers_before"])
            + total.subscribersGained
            - total.subscribersLost,
            "videoCount": len(self.uploads(self.today(now))),
        }


@lru_cache(maxsize=20_000)
def _channel_day(data: ChannelData, day: date) -> Cell:
    """Every upload's complete activity on one day, summed."""
    total = Cell()
    for upload in data.uploads(day):
        total = total + data.cell(upload, day)
    return total


@lru_cache(maxsize=200_000)
def _full_cell(data: ChannelData, index: int, day: date) -> Cell:
    upload = data._all_uploads[index]
    age = (day - upload.published).days
    if age < 0:
        return Cell()
    tail = float(data.audience["tail_share"])
    decay = tail + (1 - tail) * math.exp(-age * math.log(2) / upload.half_life_days)
    weekly = data.audience["weekly"][day.weekday()]
    noise = between(0.8, 1.2, "yt-views", index, day)
    return _derive(upload, day, round(upload.launch_views * decay * weekly * noise))


def _derive(upload: Upload, day: date, views: int) -> Cell:
    actions = {
        name: round(views * rate * between(0.7, 1.3, "yt", name, upload.index, day))
        for name, rate in upload.rates.items()
    }
    watched = upload.watched_share * between(0.9, 1.1, "yt-watch", upload.index, day)
    watched = min(watched, 1.0)
    return Cell(
        views=views,
        **actions,
        estimatedMinutesWatched=round(views * upload.duration_seconds * watched / 60),
        watched_views=views * watched,
    )
