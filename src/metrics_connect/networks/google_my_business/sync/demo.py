"""The demo integration's review archive, filled by replaying the sandbox clock through
the real sync a day at a time (sync/daily_replay.py)."""

from __future__ import annotations

from functools import partial

from metrics_connect.networks.google_my_business.sync.archive import sync_reviews
from metrics_connect.sync.daily_replay import replay_daily

prepare_demo = partial(
    replay_daily,
    slug="google_my_business",
    sandbox_base_url="http://business-profile.sandbox",
    sync=sync_reviews,
)
