"""The compute step's work: the same engine call as POST /metrics/get-data, as bytes.

The webhook body must be exactly what the sync endpoint answers, so it comes from
the same call (run_get_data_json: a reused answer is encoded once for every job
that asks it), once, and is stored: the bytes signed are the bytes sent, on every
retry. Jobs that ask the same of one integration at once share one computation
(SharedComputes).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from metrics_connect import clock
from metrics_connect.engine.request import GetDataRequest, max_range_days_var
from metrics_connect.engine.service import run_get_data_json
from metrics_connect.jobs.store import ClaimedJob
from metrics_connect.runtime import Runtime


class PermanentFailure(Exception):
    """The job cannot produce a result (its integration is gone or not active)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def compute_body(runtime: Runtime, job: ClaimedJob) -> str:
    integration = job.integration  # as the claim read it, just now
    if integration is None:
        raise PermanentFailure(
            "integration_not_found", "The customer integration was removed before the job ran."
        )
    if integration.status != "active":
        raise PermanentFailure(
            "integration_expired",
            f"The customer integration is {integration.status}; reconnect it and ask again.",
        )
    max_range_days_var.set(runtime.settings.max_range_days)
    request = GetDataRequest.model_validate(job.request_body)
    body = await run_get_data_json(runtime, integration, request)
    return body.decode("utf-8")


class SharedComputes:
    """Jobs asking the same of the same integration at once wait for one computation.

    A job joins a computation only if it started after the job was accepted: what it
    answers is then what the job's own computation, run at that moment, would have
    answered. Its failure is each job's own failure (each job fails or retries).
    """

    def __init__(self) -> None:
        self._running: dict[tuple[int, str], tuple[datetime, asyncio.Future[str]]] = {}

    async def compute_body(self, runtime: Runtime, job: ClaimedJob) -> str:
        if job.integration is None:
            return await compute_body(runtime, job)
        key = (job.integration.id, json.dumps(job.request_body, sort_keys=True))
        running = self._running.get(key)
        if running is not None and running[0] >= job.created_at:
            return await asyncio.shield(running[1])
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._running[key] = (clock.now(), future)
        try:
            body = await compute_body(runtime, job)
        except BaseException as exc:
            _fail(future, exc)
            raise
        else:
            future.set_result(body)
            return body
        finally:
            if self._running.get(key, (None, None))[1] is future:
                del self._running[key]


def _fail(future: asyncio.Future[str], exc: BaseException) -> None:
    if isinstance(exc, asyncio.CancelledError):
        # Its own step was stopped (its deadline, a shutdown): the others retry theirs.
        exc = RuntimeError("the shared computation was cancelled")
    future.set_exception(exc)
    # Retrieved here so that a computation nobody joined logs no "never retrieved".
    future.exception()
