"""Windows in the account's time zone, and days of Graph answers."""

from __future__ import annotations

from datetime import date, timedelta

from metrics_connect.connectors.kit import windows
from metrics_connect.connectors.kit.meta_graph.insights import (
    day_ending_at,
    local_day,
    parse_graph_time,
    without_named,
)
from metrics_connect.networks.instagram_business.connector.hooks import (
    account_series_metrics,
    media_metrics,
)

MAX_WINDOW_SECONDS = 30 * 86400


def test_chunks_never_exceed_thirty_days_or_the_documented_span() -> None:
    tz = windows.zone("America/New_York")  # has DST: a 30-day window may be 30 days + 1 hour
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    chunks = windows.split(start, end, 30, tz, MAX_WINDOW_SECONDS)
    assert chunks[0][0] == start and chunks[-1][1] == end
    sentinel = (end + timedelta(days=1), end)
    for (first, last), following in zip(chunks, [*chunks[1:], sentinel], strict=True):
        assert following[0] == last + timedelta(days=1)  # contiguous, no overlap
        since, until = windows.unix_bounds(first, last, tz)
        assert until - since <= MAX_WINDOW_SECONDS
        assert (last - first).days + 1 <= 30
    assert len(chunks) in (13, 14)


def test_window_is_local_midnight_to_local_midnight() -> None:
    tz = windows.zone("America/Sao_Paulo")
    since, until = windows.unix_bounds(date(2024, 3, 1), date(2024, 3, 1), tz)
    assert until - since == 86400
    assert since == int(parse_graph_time("2024-03-01T03:00:00+0000").timestamp())


def test_end_time_points_to_the_day_that_ended() -> None:
    tz = windows.zone("America/Sao_Paulo")
    assert day_ending_at("2024-03-02T03:00:00+0000", tz) == date(2024, 3, 1)
    assert local_day("2024-03-02T02:30:00+0000", tz) == date(2024, 3, 1)


def test_metric_sets_follow_type_version_and_sunset() -> None:
    old_post = parse_graph_time("2024-05-01T10:00:00+0000")
    new_post = parse_graph_time("2024-09-01T10:00:00+0000")
    before, after = date(2025, 4, 20), date(2026, 12, 2)  # Meta's sunset: 2025-04-21
    assert "impressions" in media_metrics("v21.0", "IMAGE", "FEED", old_post, after)
    assert "impressions" in media_metrics("v21.0", "IMAGE", "FEED", new_post, before)
    assert "impressions" not in media_metrics("v21.0", "IMAGE", "FEED", new_post, after)
    assert "impressions" not in media_metrics("v22.0", "IMAGE", "FEED", old_post, before)
    reels = media_metrics("v21.0", "VIDEO", "REELS", new_post, before)
    assert "plays" in reels and "impressions" not in reels and "replies" not in reels
    assert "plays" not in media_metrics("v21.0", "VIDEO", "REELS", new_post, after)
    assert "plays" not in media_metrics("v22.0", "VIDEO", "REELS", new_post, before)
    assert "follows" not in media_metrics("v22.0", "CAROUSEL_ALBUM", "FEED", new_post, after)
    assert "replies" in media_metrics("v22.0", "IMAGE", "STORY", new_post, after)
    assert account_series_metrics("v21.0", before) == ("reach", "impressions")
    assert account_series_metrics("v21.0", after) == ("reach",)
    assert account_series_metrics("v22.0", before) == ("reach",)
    message = "(#100) The Media Insights API does not support the impressions, replies metric"
    assert without_named(("reach", "impressions", "replies"), message) == ("reach",)


def test_the_generic_refusal_keeps_the_metrics_it_lists() -> None:
    # Graph's wording for a sunset metric names the metrics it serves, not the refused one.
    message = (
        "(#100) metric[1] must be one of the following values: reach, views, "
        "follower_count, accounts_engaged, total_interactions, likes"
    )
    assert without_named(("reach", "impressions", "likes"), message) == ("reach", "likes")
