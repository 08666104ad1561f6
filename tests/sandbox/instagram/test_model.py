"""The raw truth: deterministic, realistic, and internally consistent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

from metrics_connect.networks.instagram_business.emulator.model import (
    ACCOUNT_CREATED,
    ACCOUNT_METRICS,
    UNIQUE_METRICS,
    InstagramSandbox,
)
from metrics_connect.sandbox.kit.controls import SandboxClock, SandboxControls
from tests.sandbox.instagram.conftest import NOW

AUGUST = [date(2024, 8, 1) + timedelta(days=i) for i in range(31)]


def _sandbox(seed: int = 2023, at: datetime = NOW) -> InstagramSandbox:
    return InstagramSandbox(SandboxControls(SandboxClock(frozen_at=at)), seed=seed)


def test_same_seed_same_data_and_different_seed_different_data() -> None:
    a, b, other = _sandbox(), _sandbox(), _sandbox(seed=99)
    for day in AUGUST[:5]:
        assert a.figures(day) == b.figures(day)
        assert [m.id for m in a.content_on(day)] == [m.id for m in b.content_on(day)]
        assert [m.final for m in a.content_on(day)] == [m.final for m in b.content_on(day)]
    assert [a.daily_value("reach", d) for d in AUGUST] != [
        other.daily_value("reach", d) for d in AUGUST
    ]


def test_daily_invariants(sandbox: InstagramSandbox) -> None:
    for day in AUGUST:
        figures = sandbox.figures(day)
        assert figures is not None
        t = figures.totals
        assert 0 < t["reach"] <= t["impressions"] <= t["views"]
        assert t["accounts_engaged"] <= t["reach"]
        assert t["total_interactions"] == sum(
            t[m] for m in ("likes", "comments", "saves", "shares", "replies")
        )
        for metric, by_breakdown in figures.breakdowns.items():
            for breakdown, parts in by_breakdown.items():
                assert sum(parts.values()) == t[metric], (metric, breakdown)
        # Account replies are the replies to the day's stories, far below their reach.
        stories = [m for m in sandbox.content_on(day) if m.is_story]
        assert 0 <= len(stories) <= 6
        assert t["replies"] == sum(s.final["replies"] for s in stories)
        for story in stories:
            assert story.final["replies"] * 20 < story.final["reach"]
            assert story.final["reach"] <= story.final["views"]


def test_weekly_rhythm_and_growth(sandbox: InstagramSandbox) -> None:
    start = sandbox.followers_at_day_start(date(2023, 12, 1))
    end = sandbox.followers_at_day_start(date(2024, 9, 1))
    assert start < end < start * 3
    # Over a year, weekends (Sunday) reach fewer than Fridays on average.
    days = [date(2023, 9, 1) + timedelta(days=i) for i in range(364)]
    friday = [sandbox.daily_value("follower_count", d) for d in days if d.weekday() == 4]
    sunday = [sandbox.daily_value("follower_count", d) for d in days if d.weekday() == 6]
    assert sum(friday) > sum(sunday)
    # A few posts and reels a week.
    posts = sandbox.media(sandbox.day_start(days[0]), sandbox.day_end(days[-1]))
    assert 2 * 52 <= len(posts) <= 6 * 52
    assert {m.media_product_type for m in posts} == {"FEED", "REELS"}
    assert {m.media_type for m in posts} == {"IMAGE", "VIDEO", "CAROUSEL_ALBUM"}


def test_followers_count_follows_daily_net(sandbox: InstagramSandbox) -> None:
    day = date(2024, 8, 10)
    start = sandbox.followers_at_day_start(day)
    nxt = sandbox.followers_at_day_start(day + timedelta(days=1))
    assert nxt - start == sandbox.follows(day) - sandbox.unfollows(day)
    assert sandbox.followers_count(sandbox.day_end(day)) == nxt
    assert sandbox.followers_count(sandbox.day_start(day)) == start


def test_period_reach_is_deduplicated(sandbox: InstagramSandbox) -> None:
    for metric in UNIQUE_METRICS:
        for span in (2, 7, 30):
            days = AUGUST[:span]
            daily = [sandbox.daily_value(metric, d) for d in days]
            period = sandbox.period_total(metric, days[0], days[-1])
            assert isinstance(period, int)
            assert max(daily) <= period < sum(daily)
        single = sandbox.period_total(metric, AUGUST[3], AUGUST[3])
        assert single == sandbox.daily_value(metric, AUGUST[3])
    views = sandbox.period_total("views", AUGUST[0], AUGUST[-1])
    assert views == sum(sandbox.daily_value("views", d) for d in AUGUST)
    parts = sandbox.period_total("reach", AUGUST[0], AUGUST[9], breakdown="follow_type")
    assert isinstance(parts, dict)
    assert sum(parts.values()) == sandbox.period_total("reach", AUGUST[0], AUGUST[9])


def test_no_data_before_creation_and_partial_today(sandbox: InstagramSandbox) -> None:
    before = ACCOUNT_CREATED - timedelta(days=1)
    assert sandbox.figures(before) is None
    assert all(sandbox.daily_value(m, before) == 0 for m in ACCOUNT_METRICS)
    assert sandbox.content_on(before) == ()
    today = sandbox.today()
    assert today == date(2024, 9, 2)
    final = sandbox.figures(today)
    assert final is not None
    partial = sandbox.daily_value("views", today)
    assert 0 < partial < final.totals["views"]
    assert sandbox.daily_value("views", today + timedelta(days=1)) == 0


def test_story_insights_grow_over_their_24_hours(sandbox: InstagramSandbox) -> None:
    stories = sandbox.stories_posted(
        datetime(2024, 8, 1, tzinfo=UTC), datetime(2024, 8, 8, tzinfo=UTC)
    )
    assert stories
    story = max(stories, key=lambda s: s.final["reach"])
    early = story.insights_at(story.timestamp + timedelta(hours=1))
    late = story.insights_at(story.timestamp + timedelta(hours=24))
    assert early["reach"] < late["reach"] == story.final["reach"]
    assert late["navigation"] == sum(story.breakdowns_at()["navigation"].values())
    assert story.is_live(story.timestamp + timedelta(hours=23, minutes=59))
    assert not story.is_live(story.timestamp + timedelta(hours=24))


def test_demographics_sum_to_followers(sandbox: InstagramSandbox) -> None:
    followers = sandbox.followers_at_day_start(sandbox.today())
    for breakdown in ("age", "gender", "country", "city"):
        parts = sandbox.demographics(breakdown)
        assert sum(parts.values()) == followers
    assert len(sandbox.demographics("city")) > 45
    online = sandbox.online_followers()
    assert sorted(online) == list(range(24))
    assert all(0 < n < followers for n in online.values())
    assert online[20] > online[4]


_FINGERPRINT = """
import json
from datetime import UTC, date, datetime
from metrics_connect.sandbox.kit.controls import SandboxClock, SandboxControls
from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox

clock = SandboxClock(frozen_at=datetime(2024, 9, 2, 15, tzinfo=UTC))
s = InstagramSandbox(SandboxControls(clock))
print(json.dumps([
    s.period_total("reach", date(2024, 8, 1), date(2024, 8, 30)),
    [m.id for m in s.media()[:5]],
    s.stories_posted(datetime(2024, 8, 1, tzinfo=UTC), datetime(2024, 8, 8, tzinfo=UTC))[0].final,
]))
"""


def test_same_numbers_in_another_process() -> None:
    """Nothing depends on the process (hash seed, import order): a fresh interpreter with
    another PYTHONHASHSEED computes the same figures."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run(
        [sys.executable, "-c", _FINGERPRINT], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    sandbox = _sandbox()
    expected = [
        sandbox.period_total("reach", date(2024, 8, 1), date(2024, 8, 30)),
        [m.id for m in sandbox.media()[:5]],
        sandbox.stories_posted(datetime(2024, 8, 1, tzinfo=UTC), datetime(2024, 8, 8, tzinfo=UTC))[
            0
        ].final,
    ]
    assert json.loads(run.stdout) == expected


def test_optional_settling_of_ended_days(sandbox: InstagramSandbox) -> None:
    day = date(2024, 8, 20)
    final = sandbox.figures(day)
    assert final is not None
    end = sandbox.day_end(day)
    assert sandbox.daily_value("views", day, end + timedelta(hours=1)) == final.totals["views"]
    sandbox.settling_hours = 48
    early = sandbox.daily_value("views", day, end + timedelta(hours=1))
    later = sandbox.daily_value("views", day, end + timedelta(hours=30))
    assert early < later < final.totals["views"]
    assert sandbox.daily_value("views", day, end + timedelta(hours=48)) == final.totals["views"]


def test_followers_come_back_non_followers_rarely(sandbox: InstagramSandbox) -> None:
    days = AUGUST[:30]
    parts = sandbox.period_total("reach", days[0], days[-1], breakdown="follow_type")
    assert isinstance(parts, dict)
    daily = [sandbox.daily_breakdown("reach", d, "follow_type") for d in days]
    summed = {k: sum(d[k] for d in daily) for k in ("FOLLOWER", "NON_FOLLOWER")}
    assert parts["FOLLOWER"] <= sandbox.followers_at_day_start(days[-1])
    assert parts["FOLLOWER"] / summed["FOLLOWER"] < parts["NON_FOLLOWER"] / summed["NON_FOLLOWER"]
    assert sum(parts.values()) == sandbox.period_total("reach", days[0], days[-1])
