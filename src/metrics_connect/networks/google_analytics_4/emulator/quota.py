"""Core property quotas of the Data API, as `returnPropertyQuota` reports them.

A standard property has 200,000 tokens a day, 40,000 an hour, 14,000 per project an
hour (35 %), and 10 concurrent requests. Every request's tokens are deducted from the
daily, hourly and per-project-hourly buckets; when any is exhausted the property
answers RESOURCE_EXHAUSTED until the bucket renews (the next hour or day, property time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from metrics_connect.sandbox.kit.google import GoogleError

CONCURRENCY_MESSAGE = (
    "Exhausted concurrent requests quota. Consider reducing the number of concurrent requests."
)


@dataclass
class QuotaLimits:
    tokens_per_day: int = 200_000
    tokens_per_hour: int = 40_000
    tokens_per_project_per_hour: int = 14_000
    concurrent_requests: int = 10
    server_errors_per_project_per_hour: int = 10
    potentially_thresholded_requests_per_hour: int = 120


@dataclass
class PropertyQuota:
    timezone: str
    limits: QuotaLimits = field(default_factory=QuotaLimits)
    in_flight: int = 0
    _day: str = ""
    _hour: str = ""
    day_tokens: int = 0
    hour_tokens: int = 0
    server_errors: int = 0

    def _roll(self, now: datetime) -> None:
        local = now.astimezone(ZoneInfo(self.timezone))
        day, hour = local.strftime("%Y-%m-%d"), local.strftime("%Y-%m-%d %H")
        if day != self._day:
            self._day, self.day_tokens = day, 0
        if hour != self._hour:
            self._hour, self.hour_tokens, self.server_errors = hour, 0, 0

    def check(self, now: datetime) -> None:
        """Raise RESOURCE_EXHAUSTED if the property may not run a request now."""
        self._roll(now)
        limits = self.limits
        for used, limit, what, wait in (
            (self.day_tokens, limits.tokens_per_day, "per day", "until tomorrow"),
            (self.hour_tokens, limits.tokens_per_hour, "per hour", "until the next hour"),
            (
                self.hour_tokens,
                limits.tokens_per_project_per_hour,
                "per project per hour",
                "until the next hour",
            ),
        ):
            if used >= limit:
                raise GoogleError(
                    f"Exhausted property tokens {what} quota. Consider waiting {wait} or "
                    "reducing the complexity of requests.",
                    429,
                )
        if self.in_flight >= limits.concurrent_requests:
            raise GoogleError(CONCURRENCY_MESSAGE, 429)

    def charge(self, now: datetime, tokens: int) -> None:
        self._roll(now)
        self.day_tokens += tokens
        self.hour_tokens += tokens

    def record_server_error(self, now: datetime) -> None:
        self._roll(now)
        self.server_errors += 1

    def status(self, consumed: int) -> dict[str, dict[str, int]]:
        limits = self.limits

        def bucket(limit: int, used: int, this: int) -> dict[str, int]:
            return {"consumed": this, "remaining": max(0, limit - used)}

        return {
            "tokensPerDay": bucket(limits.tokens_per_day, self.day_tokens, consumed),
            "tokensPerHour": bucket(limits.tokens_per_hour, self.hour_tokens, consumed),
            "concurrentRequests": bucket(limits.concurrent_requests, self.in_flight, 0),
            "serverErrorsPerProjectPerHour": bucket(
                limits.server_errors_per_project_per_hour, self.server_errors, 0
            ),
            "potentiallyThresholdedRequestsPerHour": bucket(
                limits.potentially_thresholded_requests_per_hour, 0, 0
            ),
            "tokensPerProjectPerHour": bucket(
                limits.tokens_per_project_per_hour, self.hour_tokens, consumed
            ),
        }
