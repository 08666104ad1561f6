"""Dramatiq: the broker chosen by URL, the two actors, and sending steps to them.

API processes only send; `metrics-connect worker` processes (jobs/worker.py) run
the actors. The actors are async functions run by Dramatiq's AsyncIO middleware on
one event loop per worker process, where that process's JobsContext lives.
"""

from __future__ import annotations

import asyncio
from typing import Any

import dramatiq
from dramatiq.middleware import (
    AgeLimit,
    AsyncIO,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from metrics_connect.jobs import steps
from metrics_connect.jobs.context import JobsContext, Step

# A step holds a lease renewed by heartbeats; this limit only stops a step that
# hangs far beyond any compute budget or webhook timeout.
STEP_TIME_LIMIT_MS = 15 * 60 * 1000
# Dramatiq's own retries cover an exception escaping a step (a database outage);
# the job row and the sweeper cover everything else.
STEP_MAX_RETRIES = 5

_worker_context: JobsContext | None = None


def set_worker_context(ctx: JobsContext | None) -> None:
    """The context the actors of this worker process use (set by jobs/worker.py)."""
    global _worker_context
    _worker_context = ctx


def _context() -> JobsContext:
    if _worker_context is None:
        raise RuntimeError("job actors run only in `metrics-connect worker` processes")
    return _worker_context


async def compute_job(job_uuid: str) -> None:
    await steps.compute_job(_context(), job_uuid)


async def deliver_job(job_uuid: str) -> None:
    await steps.deliver_job(_context(), job_uuid)


def make_broker(url: str) -> dramatiq.Broker:
    """redis://, rediss:// -> Redis; amqp://, amqps:// -> RabbitMQ."""
    middleware: list[Any] = [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=STEP_MAX_RETRIES),
        AsyncIO(),
    ]
    scheme = url.split(":", 1)[0].lower()
    # Imported on use: the embedded mode needs neither client library loaded.
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, middleware=middleware)
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, middleware=middleware)
    raise ValueError(f"unsupported broker URL scheme {scheme!r}: use redis:// or amqp://")


class DramatiqQueue:
    def __init__(self, url: str, queue_name: str) -> None:
        self.broker = make_broker(url)
        options: dict[str, Any] = {
            "broker": self.broker,
            "queue_name": queue_name,
            "time_limit": STEP_TIME_LIMIT_MS,
            "max_retries": STEP_MAX_RETRIES,
        }
        self.actors: dict[Step, dramatiq.Actor[Any, Any]] = {
            "compute": dramatiq.actor(compute_job, actor_name="metrics_compute_job", **options),
            "deliver": dramatiq.actor(deliver_job, actor_name="metrics_deliver_job", **options),
        }

    async def dispatch(self, step: Step, job_uuid: str, delay_seconds: float = 0.0) -> None:
        actor = self.actors[step]
        delay_ms = int(delay_seconds * 1000) or None
        # The broker clients block: send from a thread, not from the event loop.
        await asyncio.to_thread(actor.send_with_options, args=(job_uuid,), delay=delay_ms)

    async def close(self) -> None:
        await asyncio.to_thread(self.broker.close)
