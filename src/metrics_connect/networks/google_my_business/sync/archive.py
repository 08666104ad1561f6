"""The review count and average rating are "now" values (the reviews listing's summary):
each run stores today's (the integration's day) into the fact store (sync/snapshot.py),
the connector's clock pinned to the run's."""

from __future__ import annotations

from functools import partial

from metrics_connect.sync.snapshot import store_today

DATASET = "reviews"

# The scheduler's entry point (network.yaml `sync`).
sync_reviews = partial(store_today, dataset=DATASET, pin_clock=True)
