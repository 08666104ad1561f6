"""The compute step's work: the same engine call as POST /metrics/get-data, as bytes.

The webhook body must be exactly what the sync endpoint answers, so the result is
serialized here the way the API serializes a returned dict (FastAPI's
jsonable_encoder, then Starlette's JSONResponse rendering), once, and stored: the
bytes signed are the bytes sent, on every retry.
"""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from metrics_connect.engine.request import GetDataRequest, max_range_days_var
from metrics_connect.engine.service import run_get_data
from metrics_connect.jobs.store import ClaimedJob
from metrics_connect.runtime import Runtime


class PermanentFailure(Exception):
    """The job cannot produce a result (its integration is gone or not active)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def render_body(result: dict[str, Any]) -> str:
    body = JSONResponse(jsonable_encoder(result)).body
    return bytes(body).decode("utf-8")


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
    result = await run_get_data(runtime, integration, request)
    return render_body(result)
