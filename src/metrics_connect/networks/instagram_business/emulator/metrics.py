"""The insights metrics the emulator knows, as Meta documents them per API version.

`removed_in` is the first major Graph version that rejects a metric (impressions, plays
and friends from v22.0; the per-button profile clicks and the profile_views/website_clicks
time series from v21.0; the old story taps/exits metrics from v18.0). `sunset` is the date
Meta announced for rejecting it in every version (2025-01-08 for the v21 removals,
2025-04-21 for the v22 ones); the emulator applies it only when asked to
(`GraphHandler.enforce_sunsets`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

V21_SUNSET = date(2025, 1, 8)
V22_SUNSET = date(2025, 4, 21)
# Media created up to this day keep impressions in v21.0 and older after the sunset.
IMPRESSIONS_KEPT_UNTIL = date(2024, 7, 1)


@dataclass(frozen=True)
class AccountMetric:
    name: str
    title: str
    description: str
    time_series: bool = False  # period=day values, one per day
    total_value: bool = True  # metric_type=total_value
    breakdowns: tuple[str, ...] = ()
    removed_in: int | None = None
    time_series_removed_in: int | None = None
    lifetime: bool = False  # period=lifetime (online_followers, demographics)
    sunset: date | None = None


ACCOUNT_METRICS: dict[str, AccountMetric] = {
    m.name: m
    for m in (
        AccountMetric(
            "reach",
            "Accounts reached",
            "The number of unique accounts that have seen your content, at least once, "
            "including in ads.",
            time_series=True,
            breakdowns=("media_product_type", "follow_type"),
        ),
        AccountMetric(
            "impressions",
            "Impressions",
            "The number of times your posts, stories, reels, videos and live videos were on "
            "screen, including in ads.",
            time_series=True,
            removed_in=22,
            sunset=V22_SUNSET,
        ),
        AccountMetric(
            "views",
            "Views",
            "The number of times your content was played or displayed.",
            breakdowns=("follower_type", "follow_type", "media_product_type"),
        ),
        AccountMetric(
            "follower_count",
            "Follower Count",
            "The number of accounts that followed you each day (last 30 days only).",
            time_series=True,
            total_value=False,
        ),
        AccountMetric(
            "accounts_engaged",
            "Accounts engaged",
            "The number of accounts that have interacted with your content, including in ads.",
        ),
        AccountMetric(
            "total_interactions",
            "Content interactions",
            "The number of likes, saves, comments, shares and replies on your content.",
            breakdowns=("media_product_type",),
        ),
        AccountMetric(
            "likes",
            "Likes",
            "The number of likes on your content.",
            breakdowns=("media_product_type",),
        ),
        AccountMetric(
            "comments",
            "Comments",
            "The number of comments on your content.",
            breakdowns=("media_product_type",),
        ),
        AccountMetric(
            "saves",
            "Saves",
            "The number of saves of your content.",
            breakdowns=("media_product_type",),
        ),
        AccountMetric(
            "shares",
            "Shares",
            "The number of shares of your content.",
            breakdowns=("media_product_type",),
        ),
        AccountMetric(
            "replies", "Replies", "The number of replies you received from your stories."
        ),
        AccountMetric(
            "profile_links_taps",
            "Profile links taps",
            "The number of taps on your business address, call button, email button and text "
            "button.",
            breakdowns=("contact_button_type",),
        ),
        AccountMetric(
            "follows_and_unfollows",
            "Follows and unfollows",
            "The number of accounts that followed you and the number of accounts that "
            "unfollowed you or left Instagram.",
            breakdowns=("follow_type",),
        ),
        AccountMetric(
            "profile_views",
            "Profile visits",
            "The number of times your profile was visited.",
            time_series=True,
            time_series_removed_in=21,
            sunset=V21_SUNSET,
        ),
        AccountMetric(
            "website_clicks",
            "Website taps",
            "The number of taps on the link in your profile.",
            time_series=True,
            time_series_removed_in=21,
            sunset=V21_SUNSET,
        ),
        AccountMetric(
            "email_contacts",
            "Email contacts",
            "Total number of taps on the email link in the profile.",
            time_series=True,
            removed_in=21,
            sunset=V21_SUNSET,
        ),
        AccountMetric(
            "phone_call_clicks",
            "Phone call clicks",
            "Total number of taps on the call link in the profile.",
            time_series=True,
            removed_in=21,
            sunset=V21_SUNSET,
        ),
        AccountMetric(
            "text_message_clicks",
            "Text message clicks",
            "Total number of taps on the text message link in the profile.",
            time_series=True,
            removed_in=21,
            sunset=V21_SUNSET,
        ),
        AccountMetric(
            "get_directions_clicks",
            "Get directions clicks",
            "Total number of taps on the directions link in the profile.",
            time_series=True,
            removed_in=21,
            sunset=V21_SUNSET,
        ),
        AccountMetric(
            "online_followers",
            "Online followers",
            "Total number of the account's followers online in each hour (last 30 days only).",
            total_value=False,
            lifetime=True,
        ),
        AccountMetric(
            "follower_demographics",
            "Follower demographics",
            "The demographic characteristics of followers (top 45 values).",
            breakdowns=("age", "city", "country", "gender"),
            lifetime=True,
        ),
        AccountMetric(
            "engaged_audience_demographics",
            "Engaged audience demographics",
            "The demographic characteristics of the engaged audience (top 45 values).",
            breakdowns=("age", "city", "country", "gender"),
            lifetime=True,
        ),
        AccountMetric(
            "reached_audience_demographics",
            "Reached audience demographics",
            "The demographic characteristics of the reached audience (top 45 values).",
            breakdowns=("age", "city", "country", "gender"),
            lifetime=True,
        ),
    )
}

DEMOGRAPHIC_METRICS = frozenset(
    {"follower_demographics", "engaged_audience_demographics", "reached_audience_demographics"}
)
# Since v20.0 demographics accept only these timeframes.
TIMEFRAMES = ("this_week", "this_month")
LEGACY_TIMEFRAMES = ("last_14_days", "last_30_days", "last_90_days", "prev_month")


@dataclass(frozen=True)
class MediaMetric:
    name: str
    title: str
    products: frozenset[str]  # FEED, REELS, STORY
    breakdown: str | None = None
    removed_in: int | None = None
    sunset: date | None = None


_FEED = frozenset({"FEED"})
_REELS = frozenset({"REELS"})
_STORY = frozenset({"STORY"})
_ALL = _FEED | _REELS | _STORY

MEDIA_METRICS: dict[str, MediaMetric] = {
    m.name: m
    for m in (
        MediaMetric("reach", "Accounts reached", _ALL),
        MediaMetric("views", "Views", _ALL),
        MediaMetric("impressions", "Impressions", _FEED | _STORY, removed_in=22, sunset=V22_SUNSET),
        MediaMetric("likes", "Likes", _FEED | _REELS),
        MediaMetric("comments", "Comments", _FEED | _REELS),
        MediaMetric("saved", "Saved", _FEED | _REELS),
        MediaMetric("shares", "Shares", _ALL),
        MediaMetric("total_interactions", "Interactions", _ALL),
        MediaMetric("follows", "Follows", _FEED | _STORY),
        MediaMetric("profile_visits", "Profile visits", _FEED | _STORY),
        MediaMetric(
            "profile_activity", "Profile activity", _FEED | _STORY, breakdown="action_type"
        ),
        MediaMetric("replies", "Replies", _STORY),
        MediaMetric("navigation", "Navigation", _STORY, breakdown="story_navigation_action_type"),
        MediaMetric("plays", "Plays", _REELS, removed_in=22, sunset=V22_SUNSET),
        MediaMetric("clips_replays_count", "Replays", _REELS, removed_in=22, sunset=V22_SUNSET),
        MediaMetric(
            "ig_reels_aggregated_all_plays_count",
            "Instagram plays",
            _REELS,
            removed_in=22,
            sunset=V22_SUNSET,
        ),
        MediaMetric("ig_reels_avg_watch_time", "Average watch time", _REELS),
        MediaMetric("ig_reels_video_view_total_time", "Watch time", _REELS),
        MediaMetric("video_views", "Video views", frozenset(), removed_in=0),
        MediaMetric("taps_forward", "Taps forward", _STORY, removed_in=18),
        MediaMetric("taps_back", "Taps back", _STORY, removed_in=18),
        MediaMetric("exits", "Exits", _STORY, removed_in=18),
    )
}
