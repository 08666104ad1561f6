"""The compute step's work: the same engine call as POST /metrics/get-data, as bytes.

The webhook body must be exactly what the sync endpoint answers, so the result is
serialized here the way the API serializes a returned dict (FastAPI's
jsonable_encoder, then Starlette's JSONResponse rendering), once, and stored: the
bytes signed are the bytes sent, on every retry.
"""

from __future__ import annotations

from typing import Any, cast

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.api.schemas.metrics import GetDataRequest, max_range_days_var
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


_integrations = cast(Table, CustomerIntegration.__table__)
_INTEGRATION = select(_integrations).where(_integrations.c.id == bindparam("b_id"))


async def load_integration(runtime: Runtime, integration_id: int) -> CustomerIntegration | None:
    """The integration as it is now: a Core read made into a detached row, as a closed
    session would leave it (the ORM's session and identity map cost twice the read)."""
    async with runtime.db.single_statement_engine.connect() as conn:
        row = (await conn.execute(_INTEGRATION, {"b_id": integration_id})).one_or_none()
    if row is None:
        return None
    integration = CustomerIntegration(**row._mapping)
    make_transient_to_detached(integration)
    return integration


async def compute_body(runtime: Runtime, job: ClaimedJob) -> str:
    integration = (
        await load_integration(runtime, job.integration_id)
        if job.integration_id is not None
        else None
    )
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
