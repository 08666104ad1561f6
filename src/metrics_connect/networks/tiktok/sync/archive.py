"""The daily archive of what TikTok gives only as "now" (and daily for 60 days): the
account's followers, one snapshot per UTC day (sync/snapshot.py), so that older periods
keep them."""

from __future__ import annotations

from functools import partial

from metrics_connect.sync.snapshot import store_today

DATASET = "account_snapshot"

# The scheduler's entry point (network.yaml `sync`).
sync_tiktok = partial(store_today, dataset=DATASET, timezone="UTC")
