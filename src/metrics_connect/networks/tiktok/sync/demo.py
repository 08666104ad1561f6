"""The demo account's follower archive, filled by replaying the sandbox clock through
the real sync one UTC day at a time over the last 200 days (sync/daily_replay.py)."""

from __future__ import annotations

from functools import partial

from metrics_connect.sync.daily_replay import replay_last_days

prepare_demo = partial(replay_last_days, slug="tiktok", days=200)
