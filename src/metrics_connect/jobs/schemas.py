"""Bodies of the async endpoints: the request (get-data plus a webhook URL) and a job."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from pydantic import Field

from metrics_connect.accounts.service import api_timestamp
from metrics_connect.engine.request import GetDataRequest
from metrics_connect.jobs.models import Job

IDEMPOTENCY_KEY_MAX = 255


class GetDataAsyncRequest(GetDataRequest):
    metrics_webhook_url: Annotated[str, Field(min_length=1, max_length=2048)]


def request_fingerprint(customer_uuid: str, raw_body: Any) -> str:
    """SHA-256 of the customer and the JSON body as sent, key order and spacing aside."""
    canonical = json.dumps(
        {"customer": customer_uuid, "body": raw_body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def accepted_body(job: Job) -> dict[str, Any]:
    return {
        "job": {
            "uuid": job.uuid,
            "status": job.status,
            "created_at": api_timestamp(job.created_at),
        }
    }


def job_body(job: Job, integration_uuid: str | None) -> dict[str, Any]:
    return {
        "job": {
            "uuid": job.uuid,
            "status": job.status,
            "customer_integration": integration_uuid,
            "metrics_webhook_url": job.webhook_url,
            "webhook_id": job.webhook_id,
            "created_at": api_timestamp(job.created_at),
            "updated_at": api_timestamp(job.updated_at),
            "started_at": api_timestamp(job.started_at),
            "computed_at": api_timestamp(job.computed_at),
            "finished_at": api_timestamp(job.finished_at),
            "next_attempt_at": api_timestamp(job.next_attempt_at),
            "error": job.error,
            "attempts": [
                {
                    "number": attempt.number,
                    "attempted_at": api_timestamp(attempt.attempted_at),
                    "http_status": attempt.http_status,
                    "latency_ms": attempt.latency_ms,
                    "error": attempt.error,
                }
                for attempt in job.attempts
            ],
        }
    }
