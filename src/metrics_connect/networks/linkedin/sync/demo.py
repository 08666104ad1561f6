"""The demo page's archive, filled by replaying the sandbox clock through the real sync
one UTC day at a time over the last 200 days (sync/daily_replay.py), so that the follower
count has a history and the oldest statistics outlive the API's 12 months."""

from __future__ import annotations

from functools import partial

from metrics_connect.sync.daily_replay import replay_last_days

prepare_demo = partial(replay_last_days, slug="linkedin", days=200)
