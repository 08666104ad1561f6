"""The Page's follower and like counts (followers_count, fan_count) are "now" values of
the Page node: each run stores today's (a Page insights day) into the fact store
(sync/snapshot.py), the Page's clock pinned to the run's."""

from __future__ import annotations

from functools import partial

from metrics_connect.sync.snapshot import store_today

DATASET = "page_snapshot"
TIMEZONE = "America/Los_Angeles"  # the Page's insights days

# The scheduler's entry point (network.yaml `sync`).
sync_page = partial(store_today, dataset=DATASET, timezone=TIMEZONE, pin_clock=True)
