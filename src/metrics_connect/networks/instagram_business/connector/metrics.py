"""Which Graph metrics to ask for, by media type and API version.

From Meta's IG Media Insights and IG User Insights references:
- `impressions` (account, posts, stories) is deprecated from v22.0; older versions still
  answer it for media created on or before 2024-07-01 only.
- `plays`, `clips_replays_count`, `ig_reels_aggregated_all_plays_count` (reels) are
  deprecated from v22.0: `views` replaces them.
- Reels do not support `impressions`/`replies`; `follows`, `profile_visits` and
  `profile_activity` exist for feed posts and stories only, not carousels or reels.
- Story navigation is one metric, `navigation`, broken down by
  story_navigation_action_type (tap_forward, tap_back, tap_exit, swipe_forward).
- Account `views` is a total_value metric (no time series); `reach` has both.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

IMPRESSIONS_LAST_MEDIA = datetime(2024, 7, 1, 23, 59, 59, tzinfo=UTC)
DEPRECATED_FROM = (22, 0)

FEED_METRICS = ("reach", "likes", "comments", "saved", "shares", "total_interactions", "views")
FEED_PROFILE_METRICS = ("follows", "profile_visits", "profile_activity")
REELS_METRICS = (
    "reach",
    "likes",
    "comments",
    "saved",
    "shares",
    "total_interactions",
    "views",
    "ig_reels_avg_watch_time",
    "ig_reels_video_view_total_time",
)
STORY_METRICS = (
    "reach",
    "replies",
    "follows",
    "profile_visits",
    "profile_activity",
    "shares",
    "total_interactions",
    "views",
)
NAVIGATION_ACTIONS = {
    "tap_forward": "taps_forward",
    "tap_back": "taps_back",
    "tap_exit": "exits",
    "swipe_forward": "swipe_forward",
}


def parse_version(version: str) -> tuple[int, int]:
    match = re.match(r"v?(\d+)(?:\.(\d+))?", version.strip())
    if not match:
        return (0, 0)
    return int(match.group(1)), int(match.group(2) or 0)


def has_deprecated_metrics(version: str) -> bool:
    """Versions before v22.0 still answer impressions and plays."""
    return parse_version(version) < DEPRECATED_FROM


def media_metrics(
    version: str, media_type: str, product_type: str, created_at: datetime | None
) -> tuple[str, ...]:
    old = has_deprecated_metrics(version)
    impressions_ok = old and (created_at is None or created_at <= IMPRESSIONS_LAST_MEDIA)
    if product_type == "STORY":
        return STORY_METRICS + (("impressions",) if impressions_ok else ())
    if product_type == "REELS":
        return REELS_METRICS + (("plays",) if old else ())
    metrics: tuple[str, ...] = FEED_METRICS
    if media_type != "CAROUSEL_ALBUM":
        metrics = metrics + FEED_PROFILE_METRICS
    return metrics + (("impressions",) if impressions_ok else ())


def account_series_metrics(version: str) -> tuple[str, ...]:
    """Account metrics read as a daily time series (period=day)."""
    return ("reach", "impressions") if has_deprecated_metrics(version) else ("reach",)


def without_named(metrics: tuple[str, ...], message: str) -> tuple[str, ...]:
    """The metrics an upstream "unsupported metric" message does not name."""
    named = set(re.findall(r"[a-z_]+", message.lower()))
    return tuple(m for m in metrics if m not in named)
