"""The emulated Instagram professional account: the raw truth the emulator serves.

Everything is derived from hashes of (seed, what, day, id) and the sandbox clock, so the
data is deterministic, needs no storage, and other parts' tests can compute expected
figures from this module independently of the HTTP layer.

Days are Instagram's insights days: calendar days in Meta's Pacific time zone
(`INSIGHTS_TIMEZONE`; a day's values end at ...T07:00 or T08:00+0000), whatever the
account's own zone, which only sets when its owner posts (`INSTAGRAM_TIMEZONE`: posting
hours there fall on the same Pacific date). A day's account insights are final once the
day has ended; the current day is partial (the share of the day elapsed); days before the
account's creation have no data.
"""

from __future__ import annotations

import hashlib
import math
import threading
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from metrics_connect.networks.instagram_business.emulator.metrics import (
    ACCOUNT_METRICS as METRIC_SPECS,
)
from metrics_connect.networks.instagram_business.emulator.metrics import MEDIA_METRICS
from metrics_connect.sandbox.accounts import (
    INSTAGRAM_TIMEZONE,
    INSTAGRAM_USER_ID,
    INSTAGRAM_USERNAME,
)
from metrics_connect.sandbox.kit.calendar import ClockDays, days_between
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.formulas import Formulas
from metrics_connect.sandbox.kit.seeded import (
    DailySeries,
    RunningTotal,
    apportion_map,
    between,
    draws,
    live_at,
    pooled_uniques,
    unit,
)
from metrics_connect.sandbox.kit.spec import load_spec

DEFAULT_SEED = 2023
PRODUCT_TYPES = ("POST", "CAROUSEL_CONTAINER", "REEL", "STORY")
# A story's navigation actions (drawn as `nav_<action>` counters).
NAVIGATION_TYPES = ("tap_forward", "tap_back", "tap_exit", "swipe_forward")

# Account metrics counted once per account over a span (unique accounts): a period's
# figure is not the sum of its days.
UNIQUE_METRICS = frozenset({"reach", "accounts_engaged"})
# Account metrics with daily figures (all but online followers and demographics).
ACCOUNT_METRICS = tuple(m.name for m in METRIC_SPECS.values() if not m.lifetime)


@dataclass(frozen=True)
class Audience:
    """Follower shares, online hours and captions (the `audience` of `data.yaml`)."""

    ages: dict[str, float]
    genders: dict[str, float]
    countries: dict[str, float]
    cities: tuple[tuple[str, str], ...]  # (city, region) by rank
    online_curve: tuple[float, ...]  # share of followers online in each local hour 0..23
    captions: tuple[str, ...]


@dataclass(frozen=True)
class AccountSpec:
    """The sandbox account's history (the `account` of `data.yaml`, explained there)."""

    created: date
    initial_followers: int
    weekly: tuple[float, ...]  # Monday..Sunday
    follows: tuple[float, float, float, float]  # level, trend a day, noise low, high
    unfollows: tuple[float, float]
    contact_buttons: dict[str, float]


@dataclass(frozen=True)
class MediaSpec:
    """How one kind of media is drawn (the `media` of `data.yaml`, explained there)."""

    product: str  # FEED | REELS | STORY
    hours: tuple[float, float]
    permalink: str  # a template of {shortcode}, {username}, {id}
    draws: dict[str, tuple[str, float, float] | dict[str, float]]
    a_day: float  # posts and reels: the chance of one a day; stories: the most a day
    derived: dict[str, str]  # the API's metrics computed from the counters (formulas)
    media_type: str = "IMAGE"  # unless drawn
    watch_ms: tuple[float, float] | None = None


ACCOUNT: AccountSpec = load_spec(__package__, "data.yaml", "account", AccountSpec)
ACCOUNT_CREATED = ACCOUNT.created
INITIAL_FOLLOWERS = ACCOUNT.initial_followers
WEEKLY = ACCOUNT.weekly
MEDIA: dict[str, MediaSpec] = load_spec(__package__, "data.yaml", "media", dict[str, MediaSpec])
DERIVED = {spec.product: Formulas(spec.derived) for spec in MEDIA.values()}
# Counters drawn only to derive the API's metrics from (views_raw, nav_*), by product.
HIDDEN = {product: f.inputs - set(MEDIA_METRICS) for product, f in DERIVED.items()}
PROFILE_ACTIVITY: dict[str, float] = load_spec(
    __package__, "data.yaml", "profile_activity", dict[str, float]
)
AUDIENCE: Audience = load_spec(__package__, "data.yaml", "audience", Audience)
CITIES = tuple(f"{name}, {region}" for name, region in AUDIENCE.cities)

_FEED_ID_BASE = 17_900_000_000_000_000
_STORY_ID_BASE = 17_950_000_000_000_000
_CHILD_ID_BASE = 17_980_000_000_000_000
_MAX_ID_DAYS = 36_600  # a century of ids: beyond, no day to look in
_SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

STORY_LIFETIME = timedelta(hours=24)
STORY_SETTLED_HOURS = 20.0
# Media insights are kept for two years, account insights for 90 days (Instagram's
# insights guide, 2026).
INSIGHTS_RETENTION = timedelta(days=730)
ACCOUNT_INSIGHTS_RETENTION = timedelta(days=90)
# Instagram's insights days are Pacific days, for every account.
INSIGHTS_TIMEZONE = "America/Los_Angeles"


def _counts(value: float) -> int:
    return max(0, int(value))


@dataclass(frozen=True)
class DayFigures:
    """One day's account insights: totals and breakdowns (metric -> breakdown -> key -> n)."""

    day: date
    totals: dict[str, int]
    breakdowns: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def scaled(self, fraction: float) -> DayFigures:
        """The figures at `fraction` of their final values (a partial or settling day)."""
        if fraction >= 1:
            return self
        totals = {m: _counts(v * fraction) for m, v in self.totals.items()}
        breakdowns = {
            m: {b: apportion_map(totals[m], parts) for b, parts in by_breakdown.items()}
            for m, by_breakdown in self.breakdowns.items()
        }
        return DayFigures(self.day, totals, breakdowns)


@dataclass(frozen=True)
class MediaItem:
    """A post, reel or story with its final (lifetime) insights.

    Insights grow towards `final` as the media ages: stories over their first 20 hours,
    posts and reels over a week; `insights_at(instant)` gives what the API reports then.
    """

    id: str
    timestamp: datetime  # UTC
    media_type: str  # IMAGE | VIDEO | CAROUSEL_ALBUM
    media_product_type: str  # FEED | REELS | STORY
    caption: str
    shortcode: str
    permalink: str
    media_url: str
    thumbnail_url: str | None
    children: tuple[str, ...]
    # Final values of the independent counters; the API's metrics derive from them.
    counters: dict[str, int]
    breakdowns: dict[str, dict[str, int]]
    avg_watch_time_ms: int | None = None

    @property
    def final(self) -> dict[str, int]:
        """Final lifetime insights, by the API's metric names."""
        return self.insights_at(None)

    @property
    def is_story(self) -> bool:
        return self.media_product_type == "STORY"

    @property
    def expires_at(self) -> datetime | None:
        return self.timestamp + STORY_LIFETIME if self.is_story else None

    def is_live(self, at: datetime) -> bool:
        """Visible at `at`: posted, and for a story not yet expired."""
        return live_at(self.timestamp, STORY_LIFETIME if self.is_story else None, at)

    def maturity(self, at: datetime) -> float:
        """Share of the final insights accrued by `at` (0..1)."""
        age_hours = (at - self.timestamp).total_seconds() / 3600
        if age_hours <= 0:
            return 0.0
        # Stories settle 20 hours in (so a sync polling before expiry sees final figures);
        # posts and reels after a week.
        horizon, scale = (STORY_SETTLED_HOURS, 3.0) if self.is_story else (168.0, 20.0)
        if age_hours >= horizon:
            return 1.0
        return (1 - math.exp(-age_hours / scale)) / (1 - math.exp(-horizon / scale))

    def insights_at(self, at: datetime | None = None) -> dict[str, int]:
        """Lifetime insights as reported at `at` (None: final)."""
        share = 1.0 if at is None else self.maturity(at)
        counters = {m: _counts(v * share) for m, v in self.counters.items()}
        product = self.media_product_type
        derived = DERIVED[product].evaluate({**counters, "watch_ms": self.avg_watch_time_ms or 0})
        return {m: n for m, n in counters.items() if m not in HIDDEN[product]} | derived

    def breakdowns_at(self, at: datetime | None = None) -> dict[str, dict[str, int]]:
        values = self.insights_at(at)
        return {
            metric: apportion_map(values[metric], parts)
            for metric, parts in self.breakdowns.items()
        }


def _oldest_first(items: Iterable[MediaItem]) -> tuple[MediaItem, ...]:
    return tuple(sorted(items, key=lambda m: (m.timestamp, m.id)))


def _shortcode(*parts: object) -> str:
    digest = hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=11).digest()
    return "".join(_SHORTCODE_ALPHABET[b % len(_SHORTCODE_ALPHABET)] for b in digest)


class InstagramSandbox(ClockDays):
    """The emulated account (raw truth), its insights days on the sandbox controls' clock."""

    def __init__(
        self,
        controls: SandboxControls | None = None,
        seed: int = DEFAULT_SEED,
        *,
        user_id: str = INSTAGRAM_USER_ID,
        username: str = INSTAGRAM_USERNAME,
        created: date = ACCOUNT_CREATED,
    ):
        self.controls = controls or SandboxControls()
        super().__init__(INSIGHTS_TIMEZONE, lambda: self.controls.clock.now())
        self.seed = seed
        # The demo account by default; the fleet (fleet.py) generates others by id.
        self.user_id = user_id
        self.username = username
        self.created = created
        # The owner's zone: posting times are local hours there.
        self.account_tz = ZoneInfo(INSTAGRAM_TIMEZONE)
        # New followers a day (the API's follower_count): growing, weekly rhythm, noise.
        level, trend, low, high = ACCOUNT.follows
        self.follows_series = DailySeries(
            created, level, trend, WEEKLY, noise_low=low, noise_high=high, key=(seed, "follows")
        )
        # Meta: "data used to calculate metrics may be delayed up to 48 hours". When set
        # (e.g. 48), an ended day reports 90% of its figures, reaching 100% that many hours
        # after its end. 0 (default): a day is final as soon as it ends.
        self.settling_hours = 0.0
        # Guards the append-only caches when the app thread and a test or demo thread
        # read the same sandbox at once.
        self._lock = threading.RLock()
        self._followers = RunningTotal(
            created, INITIAL_FOLLOWERS, lambda day: self.follows(day) - self.unfollows(day)
        )
        self._figures: dict[date, DayFigures] = {}
        self._posts: dict[date, tuple[MediaItem, ...]] = {}
        self._timeline: list[MediaItem] = []
        self._stamps: list[datetime] = []
        self._timeline_end = self.created - timedelta(days=1)
        self._stories: dict[date, tuple[MediaItem, ...]] = {}

    # ----------------------------------------------------------------- time
    local_day = ClockDays.day_of

    def _index(self, day: date) -> int:
        return (day - self.created).days

    # ------------------------------------------------------------ followers
    def follows(self, day: date) -> int:
        """Accounts that started following on `day` (the API's follower_count)."""
        return self.follows_series.value(day)

    def unfollows(self, day: date) -> int:
        if self._index(day) < 0:
            return 0
        return round(self.follows(day) * between(*ACCOUNT.unfollows, self.seed, "unfollows", day))

    def followers_at_day_start(self, day: date) -> int:
        return self._followers.through(day - timedelta(days=1))

    def followers_count(self, at: datetime | None = None) -> int:
        """The profile's followers_count at an instant (today's net change accrues)."""
        at = at or self.now()
        day = self.local_day(at)
        if day < self.created:
            return INITIAL_FOLLOWERS
        share = self.elapsed_share(day, at)
        net_today = self.follows(day) - self.unfollows(day)
        return self.followers_at_day_start(day) + int(net_today * share)

    # -------------------------------------------------------------- content
    def content_on(self, day: date) -> tuple[MediaItem, ...]:
        """Everything posted on a local day (posts, reels, stories), oldest first."""
        return _oldest_first(self.posts_on(day) + self.stories_on(day))

    def posts_on(self, day: date) -> tuple[MediaItem, ...]:
        """Feed posts and reels posted on a local day, oldest first."""
        if day not in self._posts:
            rhythm = WEEKLY[day.weekday()]
            self._posts[day] = _oldest_first(
                self._item(kind, day, slot)
                for slot, (kind, key) in enumerate((("post", "feed"), ("reel", "reel")))
                if self._index(day) >= 0 and unit(self.seed, key, day) < MEDIA[kind].a_day * rhythm
            )
        return self._posts[day]

    def stories_on(self, day: date) -> tuple[MediaItem, ...]:
        """Stories posted on a local day, oldest first."""
        if day not in self._stories:
            most = int(MEDIA["story"].a_day)
            count = (
                int(unit(self.seed, "stories", day) * (most + 1)) if self._index(day) >= 0 else 0
            )
            self._stories[day] = _oldest_first(self._item("story", day, s) for s in range(count))
        return self._stories[day]

    def _local_time(self, day: date, key: str, slot: int, first: float, last: float) -> datetime:
        hours = between(first, last, self.seed, key, day, slot)
        local = datetime.combine(day, time(0), self.account_tz) + timedelta(hours=hours)
        return local.replace(microsecond=0).astimezone(UTC)

    def _item(self, kind: str, day: date, slot: int) -> MediaItem:
        """The post, reel or story `slot` of a day, drawn as data.yaml's `media` says."""
        spec = MEDIA[kind]
        story = spec.product == "STORY"
        key = (self.seed, kind, day, slot) if story else (self.seed, kind, day)
        rng = draws(*key)
        i = self._index(day)
        media_id = str((_STORY_ID_BASE if story else _FEED_ID_BASE) + i * 100 + slot)
        media_type = spec.media_type
        children: tuple[str, ...] = ()
        values = {"followers": float(self.followers_at_day_start(day))}
        for name, step in spec.draws.items():
            if isinstance(step, dict):
                roll = rng.random()
                media_type = next(t for t, bound in step.items() if roll < bound)
                if media_type == "CAROUSEL_ALBUM":
                    first = _CHILD_ID_BASE + i * 1000 + slot * 10
                    children = tuple(str(first + k) for k in range(2 + int(rng.random() * 4)))
            else:
                base, low, high = step
                values[name] = values[base] * rng.uniform(low, high)
        counters = {name: _counts(v) for name, v in values.items() if name != "followers"}
        caption = "" if story else AUDIENCE.captions[int(rng.random() * len(AUDIENCE.captions))]
        breakdowns = {}
        if "profile_activity" in counters:
            jitter = draws(*key, "activity")
            breakdowns["profile_activity"] = {
                name: max(1, round(1000 * w * jitter.uniform(0.6, 1.4)))
                for name, w in PROFILE_ACTIVITY.items()
            }
        if story:
            breakdowns["navigation"] = {k: counters[f"nav_{k}"] for k in NAVIGATION_TYPES}
        video = media_type == "VIDEO"
        shortcode = _shortcode(*key, "shortcode")
        cdn = f"https://scontent.cdninstagram.com/v/{media_id}"
        return MediaItem(
            id=media_id,
            timestamp=self._local_time(day, f"{kind}-time", slot, *spec.hours),
            media_type=media_type,
            media_product_type=spec.product,
            caption=caption,
            shortcode=shortcode,
            permalink=spec.permalink.format(
                shortcode=shortcode, username=self.username, id=media_id
            ),
            # A feed video's media_url is its cover image.
            media_url=cdn + (".mp4" if video and spec.product != "FEED" else ".jpg"),
            thumbnail_url=f"{cdn}_thumb.jpg" if video else None,
            children=children,
            counters=counters,
            breakdowns=breakdowns,
            avg_watch_time_ms=round(rng.uniform(*spec.watch_ms)) if spec.watch_ms else None,
        )

    def _days(self, first: date, last: date) -> list[date]:
        return days_between(max(first, self.created), last)

    def media(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        product_type: str | None = None,
    ) -> list[MediaItem]:
        """Posts and reels (not stories) posted in [since, until), newest first.

        `until` defaults to the sandbox's now: nothing from its future is listed.
        """
        until = min(until or self.now(), self.now() + timedelta(microseconds=1))
        since = since or self.day_start(self.created)
        timeline, stamps = self._timeline_to(self.local_day(until))
        items = timeline[bisect_left(stamps, since) : bisect_left(stamps, until)]
        if product_type is not None:
            items = [m for m in items if m.media_product_type == product_type]
        return items[::-1]

    def _timeline_to(self, last: date) -> tuple[list[MediaItem], list[datetime]]:
        """Every post and reel up to the local day `last`, oldest first, with timestamps."""
        with self._lock:
            while self._timeline_end < last:
                self._timeline_end += timedelta(days=1)
                for item in self.posts_on(self._timeline_end):
                    self._timeline.append(item)
                    self._stamps.append(item.timestamp)
            return self._timeline, self._stamps

    def stories_posted(self, t0: datetime, t1: datetime) -> list[MediaItem]:
        """Stories posted in [t0, t1), oldest first, with their final insights (`.final`)."""
        return [
            m
            for day in self._days(self.local_day(t0), self.local_day(t1))
            for m in self.stories_on(day)
            if t0 <= m.timestamp < t1
        ]

    def live_stories(self, at: datetime | None = None) -> list[MediaItem]:
        """Stories visible at `at` (posted in the 24 hours before it), newest first."""
        at = at or self.now()
        live = self.stories_posted(at - STORY_LIFETIME, at + timedelta(microseconds=1))
        return sorted((s for s in live if s.is_live(at)), key=lambda m: m.timestamp, reverse=True)

    def find_media(self, media_id: str) -> MediaItem | None:
        """The post, reel or story with this id, if it exists at all (posted or not)."""
        if not media_id.isdigit():
            return None
        number = int(media_id)
        for base, end, on_day in (
            (_FEED_ID_BASE, _STORY_ID_BASE, self.posts_on),
            (_STORY_ID_BASE, _CHILD_ID_BASE, self.stories_on),
        ):
            # 100 ids a day from the account's creation; a child's id is in neither range.
            if base <= number < end and (number - base) // 100 <= _MAX_ID_DAYS:
                day = self.created + timedelta(days=(number - base) // 100)
                for item in on_day(day):
                    if item.id == media_id:
                        return item
        return None

    def find_child(self, media_id: str) -> tuple[MediaItem, int] | None:
        """A carousel child: (its album, position)."""
        if not media_id.isdigit():
            return None
        offset = int(media_id) - _CHILD_ID_BASE
        if offset < 0 or offset >= 10**12:
            return None
        album = self.find_media(str(_FEED_ID_BASE + (offset // 1000) * 100 + (offset % 1000) // 10))
        if album is None or media_id not in album.children:
            return None
        return album, album.children.index(media_id)

    # ------------------------------------------------------ account insights
    def figures(self, day: date) -> DayFigures | None:
        """A day's final account insights (None before the account existed)."""
        if day < self.created:
            return None
        cached = self._figures.get(day)
        if cached is None:
            cached = self._compute_figures(day)
            self._figures[day] = cached
        return cached

    def figures_at(self, day: date, at: datetime | None = None) -> DayFigures | None:
        """A day's figures as the API reports them at `at`: partial for the current day,
        still settling for `settling_hours` after it ended (when set), None for a day that
        has not started or precedes the account."""
        at = at or self.now()
        final = self.figures(day)
        share = self.elapsed_share(day, at)
        if final is None or share <= 0:
            return None
        if share < 1:
            return final.scaled(share)
        if self.settling_hours > 0:
            hours_since_end = (at - self.day_end(day)).total_seconds() / 3600
            if hours_since_end < self.settling_hours:
                return final.scaled(0.9 + 0.1 * hours_since_end / self.settling_hours)
        return final

    def _compute_figures(self, day: date) -> DayFigures:
        rng = draws(self.seed, "account", day)
        followers = self.followers_at_day_start(day)
        rhythm = WEEKLY[day.weekday()] * rng.uniform(0.8, 1.2)
        content = self.content_on(day)
        stories = [m for m in content if m.is_story]
        posts = [m for m in content if m.media_product_type == "FEED"]
        reels = [m for m in content if m.media_product_type == "REELS"]
        carousel_posts = [m for m in posts if m.media_type == "CAROUSEL_ALBUM"]
        single_posts = [m for m in posts if m.media_type != "CAROUSEL_ALBUM"]

        # Accounts reached through each kind of content (older posts keep reaching people).
        reach_by_product = {
            "POST": followers * 0.1 * rhythm
            + sum(m.counters["reach"] * 0.55 for m in single_posts),
            "CAROUSEL_CONTAINER": followers * 0.03 * rhythm
            + sum(m.counters["reach"] * 0.55 for m in carousel_posts),
            "REEL": followers * 0.05 * rhythm + sum(m.counters["reach"] * 0.5 for m in reels),
            "STORY": sum(m.counters["reach"] for m in stories) * 0.85,
        }
        views_per_reach = {"POST": 1.6, "CAROUSEL_CONTAINER": 2.1, "REEL": 1.4, "STORY": 1.3}
        views_by_product = {
            p: r * views_per_reach[p] * rng.uniform(0.9, 1.15) for p, r in reach_by_product.items()
        }
        reach = _counts(sum(reach_by_product.values()))
        views = _counts(sum(views_by_product.values()))
        impressions = max(reach, _counts(views * rng.uniform(0.82, 0.95)))
        likes = reach * rng.uniform(0.05, 0.09)
        interactions_weights = {p: reach_by_product[p] for p in PRODUCT_TYPES if p != "STORY"}
        engagement = {
            "likes": _counts(likes),
            "comments": _counts(likes * rng.uniform(0.03, 0.08)),
            "saves": _counts(likes * rng.uniform(0.05, 0.12)),
            "shares": _counts(likes * rng.uniform(0.04, 0.1)),
        }
        profile_views = _counts(reach * rng.uniform(0.02, 0.05))
        link_taps = _counts(profile_views * rng.uniform(0.03, 0.08))
        follower_share = rng.uniform(0.45, 0.7)
        by_product = {m: apportion_map(n, interactions_weights) for m, n in engagement.items()}
        by_product["replies"] = {"STORY": sum(m.counters["replies"] for m in stories)}
        by_product["total_interactions"] = {
            p: sum(parts.get(p, 0) for parts in by_product.values()) for p in PRODUCT_TYPES
        }
        contact_weights = {b: w * rng.uniform(0.6, 1.4) for b, w in ACCOUNT.contact_buttons.items()}
        taps = apportion_map(link_taps, contact_weights)
        follows, unfollows = self.follows(day), self.unfollows(day)
        totals = {
            "reach": reach,
            "views": views,
            "impressions": impressions,
            "accounts_engaged": _counts(reach * rng.uniform(0.035, 0.07)),
            **engagement,
            "replies": by_product["replies"]["STORY"],
            "total_interactions": sum(by_product["total_interactions"].values()),
            "profile_views": profile_views,
            "website_clicks": _counts(profile_views * rng.uniform(0.05, 0.15)),
            "profile_links_taps": link_taps,
            "follows_and_unfollows": follows + unfollows,
            "follower_count": follows,
            "email_contacts": taps["EMAIL"],
            "phone_call_clicks": taps["CALL"],
            "text_message_clicks": taps["TEXT"],
            "get_directions_clicks": taps["DIRECTION"],
        }

        def by_follow(total: int, share: float) -> dict[str, int]:
            return apportion_map(total, {"FOLLOWER": share, "NON_FOLLOWER": 1 - share})

        breakdowns = {
            "reach": {
                "media_product_type": apportion_map(reach, reach_by_product),
                "follow_type": by_follow(reach, follower_share),
            },
            "views": {
                "media_product_type": apportion_map(views, views_by_product),
                "follow_type": by_follow(views, min(0.9, follower_share * 1.1)),
            },
            **{m: {"media_product_type": parts} for m, parts in by_product.items()},
            "profile_links_taps": {"contact_button_type": taps},
            "follows_and_unfollows": {
                "follow_type": {"FOLLOWER": follows, "NON_FOLLOWER": unfollows}
            },
        }
        return DayFigures(day, totals, breakdowns)

    def daily_value(self, metric: str, day: date, at: datetime | None = None) -> int:
        """A metric's value for one local day as reported at `at` (default: now; a
        finished day's value is final). 0 for days before the account existed."""
        figures = self.figures_at(day, at)
        return 0 if figures is None else figures.totals[metric]

    def daily_breakdown(
        self, metric: str, day: date, breakdown: str, at: datetime | None = None
    ) -> dict[str, int]:
        figures = self.figures_at(day, at)
        if figures is None:
            return {}
        return dict(figures.breakdowns[metric][breakdown])

    def period_total(
        self,
        metric: str,
        since: date,
        until: date,
        breakdown: str | None = None,
        at: datetime | None = None,
    ) -> int | dict[str, int]:
        """A metric over the local days since..until (inclusive), as the network counts it:
        a sum for additive metrics; for unique ones (reach, accounts_engaged) the network's
        own de-duplicated count, at least the largest day and less than the sum of days."""
        days = [f for d in self._days(since, until) if (f := self.figures_at(d, at)) is not None]
        if metric in UNIQUE_METRICS and len(days) > 1:
            parts = self._unique_parts(metric, days, until)
            total = sum(parts.values())
            if breakdown == "follow_type" and metric == "reach":
                return parts
        else:
            total = sum(f.totals[metric] for f in days)
        if breakdown is None:
            return total
        merged: dict[str, int] = {}
        for f in days:
            for k, v in f.breakdowns[metric][breakdown].items():
                merged[k] = merged.get(k, 0) + v
        if metric in UNIQUE_METRICS:
            return apportion_map(total, merged)
        return merged

    def _unique_parts(self, metric: str, days: list[DayFigures], until: date) -> dict[str, int]:
        """Unique accounts over several days, by audience, each drawn from its pool (the
        kit's `pooled_uniques`): the followers, or non-followers 12 times as many.
        Followers come back day after day, non-followers rarely."""
        followers = self.followers_at_day_start(until)
        if metric == "reach":
            by_audience = [f.breakdowns["reach"]["follow_type"] for f in days]
            pools = {"FOLLOWER": followers, "NON_FOLLOWER": 12 * followers}
        else:
            by_audience = [{"ENGAGED": f.totals[metric]} for f in days]
            pools = {"ENGAGED": 2 * followers}
        return {
            audience: pooled_uniques([d.get(audience, 0) for d in by_audience], pool)
            for audience, pool in pools.items()
        }

    # ------------------------------------------------------------- audience
    def demographics(self, breakdown: str, at: datetime | None = None) -> dict[str, int]:
        """Followers by age, gender, country or city (every value, not just the top 45),
        summing to the follower count at the start of the day of `at` (the API excludes
        the current day)."""
        at = at or self.now()
        followers = self.followers_at_day_start(self.local_day(at))
        return apportion_map(followers, self._demographic_weights(breakdown))

    def _demographic_weights(self, breakdown: str) -> dict[str, float]:
        pairs = {
            "age": list(AUDIENCE.ages.items()),
            "gender": list(AUDIENCE.genders.items()),
            "country": list(AUDIENCE.countries.items()),
            "city": [(c, 0.3 / (rank + 1) ** 1.1) for rank, c in enumerate(CITIES)],
        }.get(breakdown)
        if pairs is None:
            raise ValueError(f"unknown demographic breakdown {breakdown!r}")
        return {n: w * between(0.85, 1.15, self.seed, "demo", breakdown, n) for n, w in pairs}

    def online_followers(self, day: date | None = None) -> dict[int, int]:
        """Followers online in each local hour (0..23) of a day (default: yesterday)."""
        day = day or (self.today() - timedelta(days=1))
        followers = self.followers_at_day_start(day)
        return {
            hour: round(followers * share * between(0.9, 1.1, self.seed, "online", day, hour))
            for hour, share in enumerate(AUDIENCE.online_curve)
        }
