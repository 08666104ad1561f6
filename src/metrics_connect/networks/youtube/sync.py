"""The daily archive of what YouTube only gives as "now": the channel's subscriber,
view and video counts (channels.list statistics), one snapshot per Pacific day
(sync/snapshot.py)."""

from __future__ import annotations

from functools import partial

from metrics_connect.sync.snapshot import store_today

DATASET = "channel_snapshot"
TIMEZONE = "America/Los_Angeles"  # YouTube's days

# The scheduler's entry point (network.yaml `sync`).
sync_youtube = partial(store_today, dataset=DATASET, timezone=TIMEZONE)
