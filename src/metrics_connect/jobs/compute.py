"""The compute step's work: the same engine call as POST /metrics/get-data, as bytes.

The webhook body must be exactly what the sync endpoint answers, so it comes from
the same call (run_get_data_json: a reused answer is encoded once for every job
that asks it), once, and is stored: the bytes signed are the bytes sent, on every
retry.
"""

from __future__ import annotations

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
