"""POST /metrics/get-data-async and GET /metrics/jobs/{uuid}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.api.deps import (
    BillableCustomerDep,
    RuntimeDep,
    SessionDep,
    apply_request_limits,
)
from metrics_connect.api.errors import ApiError, unprocessable
from metrics_connect.api.json_body import JsonBodyRoute
from metrics_connect.engine.service import request_integration
from metrics_connect.jobs import store
from metrics_connect.jobs.lifecycle import jobs_context
from metrics_connect.jobs.schemas import (
    IDEMPOTENCY_KEY_MAX,
    GetDataAsyncRequest,
    accepted_body,
    job_body,
    request_fingerprint,
)
from metrics_connect.jobs.ssrf import WebhookURLRefused
from metrics_connect.logging_setup import get_logger

log = get_logger("metrics_connect.jobs")

router = APIRouter(
    tags=["metrics"], dependencies=[Depends(apply_request_limits)], route_class=JsonBodyRoute
)


@router.post("/metrics/get-data-async")
async def get_data_async(
    body: GetDataAsyncRequest,
    request: Request,
    customer: BillableCustomerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Validates like /metrics/get-data, queues a job, answers at once.

    The job computes the same result and POSTs it, signed, to metrics_webhook_url.
    The same Idempotency-Key with the same body returns the same job; with another
    body it is refused (422).
    """
    ctx = jobs_context(runtime)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX:
        raise unprocessable(
            {"Idempotency-Key": [f"The key must be 1 to {IDEMPOTENCY_KEY_MAX} characters."]}
        )
    try:
        await ctx.guard.vet(body.metrics_webhook_url)
    except WebhookURLRefused as exc:
        raise unprocessable({"metrics_webhook_url": [exc.reason]}) from None
    # Through the auth cache, like /metrics/get-data; the compute step reads it afresh.
    integration = await request_integration(runtime, customer, body.customer_integration)

    new = store.NewJob(
        customer=customer,
        integration=integration,
        request_body=body.model_dump(mode="json", exclude={"metrics_webhook_url"}),
        webhook_url=body.metrics_webhook_url,
        idempotency_key=idempotency_key,
        body_hash=request_fingerprint(customer.uuid, await request.json()),
    )
    try:
        job, created = await store.create_or_reuse(session, new, ctx.writes.insert_job)
    except store.IdempotencyConflict:
        raise unprocessable(
            {"Idempotency-Key": ["This key was already used with a different body; use a new key."]}
        ) from None
    if created:
        try:
            await ctx.queue.dispatch("compute", job.uuid)
        except Exception:
            # Accepted and stored: the sweeper dispatches it once the broker is back.
            log.exception("job_dispatch_failed", job=job.uuid)
    return accepted_body(job)


@router.get("/metrics/jobs/{job_uuid}")
async def get_job(
    job_uuid: str, customer: BillableCustomerDep, session: SessionDep
) -> dict[str, Any]:
    """Status, timestamps and every delivery attempt of one of the customer's jobs."""
    job = await store.customer_job(session, customer, job_uuid)
    if job is None:
        raise ApiError(404, "Job not found.")
    integration = (
        await session.get(CustomerIntegration, job.integration_id)
        if job.integration_id is not None
        else None
    )
    return job_body(job, integration.uuid if integration else None)
