"""The Instagram datasets: what the connector can produce and how each one settles.

Windows and retention follow Meta's Instagram Graph API documentation:
- IG User Insights with period=day: since/until at most 30 days apart per call; data
  kept about 2 years; "data may be delayed up to 48 hours" (settle after 2 days).
- follower_count (new followers per day) is served for the last 30 days only (not the
  current day): it is its own dataset, `new_followers_daily`, so that the 30-day live
  window does not hide two years of daily reach; the sync archives those days before
  they leave the window.
- follower_demographics, online_followers and the profile's followers_count are only
  "now": snapshots, archived once a day by the sync.
- Stories are listed and measurable for 24 hours only: archived by the sync.
- `impressions` (account and media) is deprecated from v22.0 (replaced by `views`);
  `plays` on reels too. They are fields here because API versions that still have them
  answer them; the connector asks for them only where the configured version does.
"""

from __future__ import annotations

from metrics_connect.connectors.base import DatasetSpec

ACCOUNT_DAILY = DatasetSpec(
    name="account_daily",
    kind="daily",
    fields=("reach", "views", "impressions"),
    settle_after_days=2,
    fresh_seconds=3600,
    max_days_per_call=30,
    live_days=730,
    description=(
        "GET /{ig-user-id}/insights?period=day: daily reach, views and (deprecated from "
        "v22.0) impressions in the account time zone."
    ),
)

NEW_FOLLOWERS_DAILY = DatasetSpec(
    name="new_followers_daily",
    kind="daily",
    fields=("follower_count",),
    settle_after_days=2,
    fresh_seconds=3600,
    max_days_per_call=30,
    live_days=30,
    description=(
        "GET /{ig-user-id}/insights?metric=follower_count&period=day: new followers per "
        "day; the API serves the last 30 days only, older days come from the archive."
    ),
)

# account_period fields, and which breakdowns the API accepts for each of them.
PERIOD_FIELDS = (
    "reach",
    "views",
    "impressions",
    "accounts_engaged",
    "total_interactions",
    "likes",
    "comments",
    "shares",
    "saves",
    "replies",
    "profile_views",
    "website_clicks",
    "profile_links_taps",
    "follows_and_unfollows",
)
PERIOD_BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "reach": ("follow_type", "media_product_type"),
    "views": ("follow_type", "media_product_type"),
    "total_interactions": ("media_product_type",),
    "likes": ("media_product_type",),
    "comments": ("media_product_type",),
    "shares": ("media_product_type",),
    "saves": ("media_product_type",),
    "profile_links_taps": ("contact_button_type",),
    "follows_and_unfollows": ("follow_type",),
}

ACCOUNT_PERIOD = DatasetSpec(
    name="account_period",
    kind="period",
    fields=PERIOD_FIELDS,
    breakdowns=("follow_type", "media_product_type", "contact_button_type"),
    settle_after_days=2,
    fresh_seconds=3600,
    max_days_per_call=30,
    live_days=730,
    description=(
        "GET /{ig-user-id}/insights?metric_type=total_value&period=day&since&until: the "
        "network's own figure for an exact period (reach is unique accounts, never a sum "
        "of days). Periods longer than 30 days: additive metrics are summed over 30-day "
        "calls; unique counts (reach, accounts_engaged) are the figures of those calls "
        "summed, an upper bound that the API offers no way to tighten."
    ),
)

FOLLOWERS_SNAPSHOT = DatasetSpec(
    name="followers_snapshot",
    kind="snapshot",
    fields=("followers_count", "media_count"),
    settle_after_days=1,
    fresh_seconds=3600,
    live_days=1,
    description="GET /{ig-user-id}?fields=followers_count,media_count, archived daily.",
)

AUDIENCE_SNAPSHOT = DatasetSpec(
    name="audience_snapshot",
    kind="snapshot",
    fields=("followers",),
    breakdowns=("age", "gender", "city", "country"),
    settle_after_days=1,
    fresh_seconds=6 * 3600,
    live_days=1,
    description=(
        "follower_demographics (period=lifetime, metric_type=total_value), one breakdown "
        "(age, gender, city, country) per call; the API returns the top 45 values only; "
        "archived daily."
    ),
)

ONLINE_FOLLOWERS_SNAPSHOT = DatasetSpec(
    name="online_followers_snapshot",
    kind="snapshot",
    fields=("online_followers",),
    breakdowns=("hour",),
    settle_after_days=1,
    fresh_seconds=6 * 3600,
    live_days=30,
    description=(
        "online_followers (period=lifetime): followers online per hour (0-23) of a day; "
        "served for the last 30 days, archived daily."
    ),
)

MEDIA_ATTRIBUTES = ("media_type", "media_product_type", "caption", "permalink", "created_at")
MEDIA_VALUES = (
    "like_count",
    "comments_count",
    "reach",
    "views",
    "impressions",
    "saved",
    "shares",
    "total_interactions",
    "likes",
    "comments",
    "follows",
    "profile_visits",
    "profile_activity",
    "plays",
    "ig_reels_avg_watch_time",
    "ig_reels_video_view_total_time",
)

MEDIA = DatasetSpec(
    name="media",
    kind="objects",
    fields=MEDIA_ATTRIBUTES + MEDIA_VALUES,
    settle_after_days=28,
    fresh_seconds=3600,
    live_days=730,
    # The IG user's media_count (posts and reels, not stories), archived daily.
    counted_by=("followers_snapshot", "media_count"),
    description=(
        "Posts and reels: GET /{ig-user-id}/media (cursor paging) plus per-media insights "
        "in Graph batch requests of up to 50; day = the post's timestamp in the account "
        "time zone. Values keep growing for weeks (settle after 28 days)."
    ),
)

STORY_ATTRIBUTES = ("media_type", "media_product_type", "created_at", "permalink")
STORY_VALUES = (
    "reach",
    "views",
    "impressions",
    "replies",
    "navigation",
    "taps_forward",
    "taps_back",
    "exits",
    "swipe_forward",
    "follows",
    "profile_visits",
    "profile_activity",
    "shares",
    "total_interactions",
)

STORIES = DatasetSpec(
    name="stories",
    kind="objects",
    fields=STORY_ATTRIBUTES + STORY_VALUES,
    settle_after_days=1,
    fresh_seconds=900,
    live_days=1,
    description=(
        "GET /{ig-user-id}/stories (the last 24 hours only) plus story insights "
        "(navigation broken down by story_navigation_action_type); older stories come "
        "from the archive the sync keeps while the integration is connected."
    ),
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        ACCOUNT_DAILY,
        NEW_FOLLOWERS_DAILY,
        ACCOUNT_PERIOD,
        FOLLOWERS_SNAPSHOT,
        AUDIENCE_SNAPSHOT,
        ONLINE_FOLLOWERS_SNAPSHOT,
        MEDIA,
        STORIES,
    )
}
