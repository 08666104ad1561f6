"""The worker process's Dramatiq consumer settings."""

from __future__ import annotations

from metrics_connect.jobs.broker import DramatiqQueue
from metrics_connect.jobs.worker import CONSUMER_POLL_MS, build_worker


def test_a_busy_worker_asks_the_broker_again_within_a_tenth_of_a_second() -> None:
    # Dramatiq's consumer backs off up to worker_timeout whenever a fetch brings
    # nothing, which is every fetch while its prefetch is all taken (under load): at
    # its default of 1,000 ms the worker's threads ran dry between batches.
    queue = DramatiqQueue("redis://127.0.0.1:1/0", "test_consumer_poll")
    worker = build_worker(queue, {"test_consumer_poll"}, threads=4)
    assert CONSUMER_POLL_MS <= 100
    assert worker.worker_timeout == CONSUMER_POLL_MS
    assert worker.worker_threads == 4
    assert worker.consumer_whitelist == {"test_consumer_poll"}
