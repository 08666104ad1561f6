"""Google API errors ({"error": {"code", "message", "status"}}) mapped to ours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from metrics_connect.connectors.base import (
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransient,
)


@dataclass(frozen=True)
class GoogleFailure:
    http_status: int
    status: str | None
    message: str


def parse_failure(http_status: int, body: Any) -> GoogleFailure:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return GoogleFailure(
            http_status, str(error.get("status") or "") or None, str(error.get("message") or "")
        )
    return GoogleFailure(http_status, None, f"HTTP {http_status} from the Data API")


def renews_in(message: str, local_now: datetime) -> float | None:
    """Seconds until an exhausted hourly/daily token bucket renews; None if it is not one."""
    text = message.lower()
    if "tokens per day" in text:
        tomorrow = (local_now + timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return (tomorrow - local_now).total_seconds()
    if "per hour" in text:
        next_hour = (local_now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        return (next_hour - local_now).total_seconds()
    return None


class QuotaExhausted(UpstreamRateLimited):
    """A token bucket that renews only at the next hour or day: not worth retrying now."""


def classify(failure: GoogleFailure, local_now: datetime) -> UpstreamError:
    status, message = failure.status, failure.message
    code = status or failure.http_status
    if failure.http_status == 401 or status == "UNAUTHENTICATED":
        return IntegrationExpired(
            message or "the Google token is invalid or expired", upstream_code=code
        )
    if failure.http_status == 403 or status == "PERMISSION_DENIED":
        return IntegrationRevoked(
            message or "no permission for this Google Analytics property", upstream_code=code
        )
    if failure.http_status == 429 or status == "RESOURCE_EXHAUSTED":
        wait = renews_in(message, local_now)
        if wait is not None:
            return QuotaExhausted(message, upstream_code=code, retry_after=wait)
        return UpstreamRateLimited(message or "Data API quota exhausted", upstream_code=code)
    if failure.http_status >= 500 or status in ("UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED"):
        return UpstreamTransient(message or "the Data API failed", upstream_code=code)
    return UpstreamError(
        message or f"the Data API refused the request ({code})", upstream_code=code
    )


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, QuotaExhausted):
        return False
    return isinstance(error, UpstreamRateLimited | UpstreamTransient)
