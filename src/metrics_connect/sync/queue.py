"""The sync on the task queue: in `metrics-connect worker` processes, a scheduler
(sync/scheduler.py) sends each claimed integration as a message of the
`metrics_sync_run` actor, which any worker runs (the work shards over the workers).

A message carries its claim's token: one that arrives after its lease expired and
another scheduler took the integration over is dropped (runner.run_claim checks).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import dramatiq

from metrics_connect.runtime import Runtime
from metrics_connect.sync.runner import run_claim
from metrics_connect.sync.schedule import Claim
from metrics_connect.sync.scheduler import install_scheduler

ACTOR_NAME = "metrics_sync_run"

_worker_runtime: Runtime | None = None


async def run_claimed(
    state_id: int, integration_id: int, slug: str, due_at: str, token: str
) -> None:
    if _worker_runtime is None:
        raise RuntimeError("sync actors run only in `metrics-connect worker` processes")
    claim = Claim(state_id, integration_id, slug, datetime.fromisoformat(due_at), token)
    await run_claim(_worker_runtime, claim)


def install_worker(runtime: Runtime, broker: dramatiq.Broker) -> None:
    """Declare the actor on the worker's broker and run a scheduler on its lifecycle."""
    global _worker_runtime
    _worker_runtime = runtime
    settings = runtime.settings
    actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        run_claimed,
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=settings.sync_queue_name,
        # A run that fails leaves its lease to expire; the schedule retries it then.
        max_retries=0,
        time_limit=int(settings.sync_lease_seconds * 1000),
    )

    def send_all(claims: list[Claim]) -> None:
        for c in claims:
            actor.send(c.state_id, c.integration_id, c.slug, c.due_at.isoformat(), c.token)

    async def send(claims: list[Claim]) -> None:
        # The broker clients block: send from a thread, not from the event loop.
        await asyncio.to_thread(send_all, claims)

    install_scheduler(runtime, send)
