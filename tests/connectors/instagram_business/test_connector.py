"""The connector's datasets against the emulator, checked against its raw truth."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs

from metrics_connect.connectors.base import FetchRequest
from metrics_connect.networks.instagram_business.connector.hooks import InstagramConnector
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork

from .conftest import NOW, Recorder


def _query(request: object) -> dict[str, str]:
    url = request.url  # type: ignore[attr-defined]
    return {k: v[0] for k, v in parse_qs(url.query.decode()).items()}


async def test_daily_series_is_chunked_at_the_30_day_window(
    connector: InstagramConnector, network: InstagramSandboxNetwork, recorder: Recorder
) -> None:
    today = connector.today()
    start, end = today - timedelta(days=90), today - timedelta(days=1)
    result = await connector.fetch(FetchRequest("account_daily", start, end))

    series = [r for r in recorder.gets("/insights") if _query(r).get("period") == "day"]
    assert len(series) == 3  # 90 days in windows of at most 30
    # the emulator's counter: 3 series calls + 90 one-day views operations in 2 batches
    assert network.controls.calls.by_endpoint["user_insights"] == 3 + 90
    assert network.controls.calls.by_endpoint["batch"] == 2
    for request in series:
        q = _query(request)
        assert int(q["until"]) - int(q["since"]) <= 30 * 86400
        assert "access_token" in q
    truth = network.sandbox
    assert [r.day for r in result.rows] == [start + timedelta(days=i) for i in range(90)]
    for row in result.rows:
        assert row.values["reach"] == truth.daily_value("reach", row.day)
        assert row.values["views"] == truth.daily_value("views", row.day)
    # views is a total_value-only metric: one batched operation per day, 50 per call
    assert len(recorder.posts()) == math.ceil(90 / 50)


async def test_new_followers_are_served_for_the_last_30_days_only(
    connector: InstagramConnector, network: InstagramSandboxNetwork
) -> None:
    today = connector.today()
    result = await connector.fetch(
        FetchRequest("new_followers_daily", today - timedelta(days=60), today)
    )
    days = [r.day for r in result.rows]
    assert (
        days and min(days) >= today - timedelta(days=30) and max(days) == today - timedelta(days=1)
    )
    for row in result.rows:
        assert row.values["follower_count"] == network.sandbox.daily_value(
            "follower_count", row.day
        )
    assert today in result.incomplete_days


async def test_period_reach_is_the_network_figure_not_a_sum(
    connector: InstagramConnector, network: InstagramSandboxNetwork
) -> None:
    today = connector.today()
    start, end = today - timedelta(days=28), today - timedelta(days=1)
    total = await connector.fetch(FetchRequest("account_period", start, end))
    (row,) = total.rows
    truth = network.sandbox
    assert row.values["reach"] == truth.period_total("reach", start, end)
    assert row.values["reach"] < sum(
        truth.daily_value("reach", start + timedelta(days=i)) for i in range(28)
    )
    assert row.values["likes"] == truth.period_total("likes", start, end)

    by_follow = await connector.fetch(
        FetchRequest("account_period", start, end, breakdowns=("follow_type",))
    )
    assert {r.keys["follow_type"]: r.values["reach"] for r in by_follow.rows} == truth.period_total(
        "reach", start, end, breakdown="follow_type"
    )
    clicks = await connector.fetch(
        FetchRequest("account_period", start, end, breakdowns=("contact_button_type",))
    )
    assert {
        r.keys["contact_button_type"]: r.values["profile_links_taps"] for r in clicks.rows
    } == truth.period_total("profile_links_taps", start, end, breakdown="contact_button_type")


async def test_long_periods_sum_additive_metrics_over_30_day_calls(
    connector: InstagramConnector, network: InstagramSandboxNetwork, recorder: Recorder
) -> None:
    today = connector.today()
    start, end = today - timedelta(days=90), today - timedelta(days=1)
    result = await connector.fetch(FetchRequest("account_period", start, end))
    assert len(recorder.gets("/insights")) == 3
    assert result.rows[0].values["likes"] == network.sandbox.period_total("likes", start, end)


async def test_media_are_paged_and_their_insights_batched(
    connector: InstagramConnector, network: InstagramSandboxNetwork, recorder: Recorder
) -> None:
    today = connector.today()
    start = today - timedelta(days=365)
    result = await connector.fetch(FetchRequest("media", start, today))

    truth = network.sandbox
    expected = truth.media(since=truth.day_start(start))
    assert len(expected) > 100
    assert [o.id for o in result.objects] == [m.id for m in expected]
    assert len(recorder.gets("/media")) > 1  # followed the cursor over several pages
    # never one call per post: insights travel in batches of 50
    assert not [
        r
        for r in recorder.requests
        if r.url.path.endswith("/insights")
        and "/17" in r.url.path
        and r.method == "GET"
        and _query(r).get("metric", "").startswith("reach,likes")
    ]
    assert len(recorder.posts()) == math.ceil(len(expected) / 50)
    counter = network.controls.calls.by_endpoint
    assert counter["batch"] == math.ceil(len(expected) / 50)  # HTTP calls carrying insights
    assert counter["media_insights"] == len(expected)  # one operation per post inside them
    by_id = {o.id: o for o in result.objects}
    for item in expected[:40]:
        values = by_id[item.id].values
        reported = item.insights_at(NOW)
        for metric in ("reach", "likes", "comments", "saved", "shares", "views"):
            assert values[metric] == reported[metric], (item.id, metric)
        assert by_id[item.id].attributes["media_product_type"] == item.media_product_type
    reels = [o for o in result.objects if o.attributes["media_product_type"] == "REELS"]
    assert reels and all("ig_reels_avg_watch_time" in o.values for o in reels)
    assert all("impressions" not in o.values for o in reels)


async def test_live_stories_with_navigation_breakdown(
    connector: InstagramConnector, network: InstagramSandboxNetwork, recorder: Recorder
) -> None:
    today = connector.today()
    result = await connector.fetch(FetchRequest("stories", today - timedelta(days=1), today))
    live = network.sandbox.live_stories(NOW)
    assert live and sorted(o.id for o in result.objects) == sorted(s.id for s in live)
    assert len(recorder.posts()) == 1  # insights and navigation of every story: one batch
    by_id = {o.id: o for o in result.objects}
    for story in live:
        values, reported = by_id[story.id].values, story.insights_at(NOW)
        for metric in ("reach", "replies", "views", "shares", "navigation"):
            assert values[metric] == reported[metric], (story.id, metric)
        # navigation by story_navigation_action_type, as the API breaks it down
        actions = story.breakdowns_at(NOW)["navigation"]
        assert values["taps_forward"] == actions["tap_forward"]
        assert values["taps_back"] == actions["tap_back"]
        assert values["exits"] == actions["tap_exit"]
        assert values["swipe_forward"] == actions["swipe_forward"]


async def test_snapshots_equal_the_network_now(
    connector: InstagramConnector, network: InstagramSandboxNetwork
) -> None:
    today = connector.today()
    truth = network.sandbox
    followers = await connector.fetch(FetchRequest("followers_snapshot", today, today))
    assert followers.rows[0].values["followers_count"] == truth.followers_count(NOW)
    gender = await connector.fetch(
        FetchRequest("audience_snapshot", today, today, breakdowns=("gender",))
    )
    assert {r.keys["gender"]: r.values["followers"] for r in gender.rows} == truth.demographics(
        "gender", NOW
    )
    yesterday = today - timedelta(days=1)
    online = await connector.fetch(FetchRequest("online_followers_snapshot", yesterday, yesterday))
    assert {int(r.keys["hour"]): r.values["online_followers"] for r in online.rows} == (
        truth.online_followers(yesterday)
    )
    # a past day of a now-only snapshot is the archive's business, not the API's
    past = await connector.fetch(
        FetchRequest("followers_snapshot", today - timedelta(days=9), today - timedelta(days=8))
    )
    assert past.rows == []


async def test_deprecated_metrics_follow_the_api_version(
    make_connector: Callable[..., InstagramConnector], recorder: Recorder
) -> None:
    old, new = make_connector(graph_api_version="v21.0"), make_connector(graph_api_version="v22.0")
    day = old.today() - timedelta(days=3)
    old_rows = (await old.fetch(FetchRequest("account_daily", day, day))).rows
    assert "impressions" in old_rows[0].values
    new_rows = (await new.fetch(FetchRequest("account_daily", day, day))).rows
    assert "impressions" not in new_rows[0].values and "reach" in new_rows[0].values
    asked = [_query(r)["metric"] for r in recorder.gets("/insights") if "/v22.0/" in r.url.path]
    assert asked and all("impressions" not in m for m in asked)


def test_plan_calls_match_the_windows(connector: InstagramConnector) -> None:
    today = connector.today()
    plan = connector.plan_calls(
        FetchRequest("account_period", today - timedelta(days=59), today - timedelta(days=1))
    )
    assert len(plan) == 2 and all(c.params["metric_type"] == "total_value" for c in plan)
