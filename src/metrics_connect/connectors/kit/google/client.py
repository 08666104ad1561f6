"""The client of Google's JSON APIs: the shared envelope, quota renewal times, and the
last property quota a report returned (returnPropertyQuota), for logs and ops."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect import clock
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.errors import ErrorMap, Failure
from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.spec import AsyncReport, Requester


def parse_failure(status: int, body: Any) -> Failure:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return Failure(status, message=f"HTTP {status} from the Google API")
    return Failure(
        status,
        status_text=str(error.get("status") or "") or None,
        message=str(error.get("message") or f"HTTP {status} from the Google API"),
    )


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


class GoogleClient(KitClient):
    family_name = "Google API"
    log_fields = ("google_status", "upstream_subcode")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_quota: dict[str, Any] | None = None
        self.tokens_consumed = 0
        # Rows per page; None: the requester's paginator says.
        self.page_size: int | None = None

    def local_now(self) -> datetime:
        return clock.now().astimezone(ZoneInfo(self.ctx.timezone))

    def error_map(self) -> ErrorMap:
        return ErrorMap(
            self.streams.errors,
            {"quota_renewal": lambda failure, _: renews_in(failure.message, self.local_now())},
        )

    def parse_failure(self, status: int, body: Any) -> Failure:
        return parse_failure(status, body)

    def body_or_raise(self, endpoint: str, response: Any) -> Any:
        body = super().body_or_raise(endpoint, response)
        if isinstance(body, dict):
            # A report's quota, or each report's of a batch (batchRunReports).
            reports = body.get("reports")
            for answer in [body, *(reports if isinstance(reports, list) else [])]:
                quota = answer.get("propertyQuota") if isinstance(answer, dict) else None
                if isinstance(quota, dict):
                    self.last_quota = quota
                    self.tokens_consumed += _consumed(quota)
        return body

    def quota_spent(self) -> dict[str, float]:
        """The property tokens the reports of this client consumed (propertyQuota)."""
        return {"tokens": self.tokens_consumed} if self.last_quota is not None else {}

    async def run(
        self, call: Call, requester: Requester, report: AsyncReport | None = None
    ) -> Answer:
        if self.page_size is not None:
            paginator = requester.paginator.model_copy(update={"page_size": self.page_size})
            requester = requester.model_copy(update={"paginator": paginator})
        return await super().run(call, requester, report)


def _consumed(quota: dict[str, Any]) -> int:
    """Tokens one report consumed: its tokensPerDay (the same as per hour) `consumed`."""
    bucket = quota.get("tokensPerDay") or quota.get("tokensPerHour") or {}
    try:
        return int(bucket.get("consumed") or 0)
    except (TypeError, ValueError):
        return 0
