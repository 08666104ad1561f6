"""The broker is chosen by URL; the two actors are declared on it."""

from __future__ import annotations

import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from metrics_connect.jobs.broker import DramatiqQueue, make_broker


def test_redis_and_rabbitmq_by_url_without_connecting() -> None:
    assert isinstance(make_broker("redis://127.0.0.1:6379/0"), RedisBroker)
    rabbit = make_broker("amqp://guest:guest@127.0.0.1:5672/")  # connects lazily
    assert isinstance(rabbit, RabbitmqBroker)
    assert any(isinstance(m, AsyncIO) for m in rabbit.middleware)
    with pytest.raises(ValueError, match="redis:// or amqp://"):
        make_broker("kafka://somewhere")


def test_the_actors_live_on_the_configured_queue() -> None:
    queue = DramatiqQueue("redis://127.0.0.1:6379/0", "metrics_jobs_here")
    assert {a.actor_name for a in queue.actors.values()} == {
        "metrics_compute_job",
        "metrics_deliver_job",
    }
    assert {a.queue_name for a in queue.actors.values()} == {"metrics_jobs_here"}
    assert queue.broker.get_declared_queues() >= {"metrics_jobs_here"}


def test_a_worker_without_a_broker_explains_itself(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from metrics_connect.jobs.worker import run_worker
    from metrics_connect.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", broker_url=None)
    with pytest.raises(SystemExit, match="METRICS_CONNECT_BROKER_URL"):
        run_worker(settings)
