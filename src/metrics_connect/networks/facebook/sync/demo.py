"""The demo integration's follower archive, filled by replaying the sandbox clock through
the real sync a day at a time (sync/daily_replay.py)."""

from __future__ import annotations

from functools import partial

from metrics_connect.networks.facebook.sync.archive import sync_page
from metrics_connect.sync.daily_replay import replay_daily

prepare_demo = partial(
    replay_daily, slug="facebook", sandbox_base_url="http://pages.sandbox", sync=sync_page
)
