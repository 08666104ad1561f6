"""Graph API failures mapped to the connector contract's errors.

Meta documents (Graph API "Handling Errors", "Rate Limits", Instagram error codes):
- 4 (app), 17 (user), 32 (page), 613 (custom), 80002 (Instagram business use case)
  are throttling; HTTP 429 too. `X-Business-Use-Case-Usage` and `X-App-Usage` carry
  the usage percentages and `estimated_time_to_regain_access` (minutes).
- 1, 2 (unknown / temporary service error) and any 5xx are transient; so is an error
  flagged `is_transient: true`.
- 190 is an invalid or expired access token (subcodes 458, 460, 463, 467...).
- 10 and 200-299 are missing permissions: the account withdrew access.
- 100 and the rest are bad requests: the upstream message says what.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from metrics_connect.connectors.base import (
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransient,
)
from metrics_connect.connectors.retry import is_retryable  # noqa: F401  (re-exported)

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80002})
TRANSIENT_CODES = frozenset({1, 2})
EXPIRED_TOKEN_CODES = frozenset({190, 102})
PERMISSION_CODES = frozenset({10, *range(200, 300)})

USAGE_HEADERS = ("x-business-use-case-usage", "x-app-usage", "x-ad-account-usage")


@dataclass(frozen=True)
class GraphFailure:
    """What the Graph API answered, before classification (for logs and errors)."""

    status: int
    code: int | None
    subcode: int | None
    message: str
    is_transient: bool = False


def parse_failure(status: int, body: Any) -> GraphFailure:
    """The `error` object of a Graph response body (a dict, or its JSON text)."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return GraphFailure(status=status, code=None, subcode=None, message=f"HTTP {status}")
    code = error.get("code")
    subcode = error.get("error_subcode")
    return GraphFailure(
        status=status,
        code=int(code) if isinstance(code, int | str) and str(code).lstrip("-").isdigit() else None,
        subcode=int(subcode) if isinstance(subcode, int) else None,
        message=str(error.get("message") or f"HTTP {status}"),
        is_transient=bool(error.get("is_transient")),
    )


def regain_access_seconds(headers: Mapping[str, str]) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in the usage headers."""
    longest: float | None = None
    for name in USAGE_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        for entry in _usage_entries(usage):
            minutes = entry.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float) and minutes > 0:
                seconds = float(minutes) * 60.0
                longest = seconds if longest is None else max(longest, seconds)
    return longest


def max_usage_percent(headers: Mapping[str, str]) -> float | None:
    """The highest of call_count / total_cputime / total_time over the usage headers."""
    highest: float | None = None
    for name in USAGE_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        for entry in _usage_entries(usage):
            for key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct"):
                value = entry.get(key)
                if isinstance(value, int | float):
                    highest = float(value) if highest is None else max(highest, float(value))
    return highest


def _usage_entries(usage: Any) -> list[dict[str, Any]]:
    # X-App-Usage is one object; X-Business-Use-Case-Usage maps a business id to a list.
    if isinstance(usage, dict) and any(isinstance(v, list) for v in usage.values()):
        return [e for v in usage.values() if isinstance(v, list) for e in v if isinstance(e, dict)]
    if isinstance(usage, dict):
        return [usage]
    return []


def classify(failure: GraphFailure, headers: Mapping[str, str] | None = None) -> UpstreamError:
    """The contract error for a Graph failure."""
    code = failure.code
    message = failure.message
    upstream_code: str | int | None = code if code is not None else failure.status
    if code in RATE_LIMIT_CODES or failure.status == 429:
        retry_after = regain_access_seconds(headers or {})
        if retry_after is None and headers is not None:
            raw = headers.get("retry-after")
            retry_after = float(raw) if raw and raw.replace(".", "", 1).isdigit() else None
        return UpstreamRateLimited(message, upstream_code=upstream_code, retry_after=retry_after)
    if code in EXPIRED_TOKEN_CODES:
        return IntegrationExpired(message, upstream_code=code)
    if code in PERMISSION_CODES:
        return IntegrationRevoked(message, upstream_code=code)
    if failure.status >= 500 or code in TRANSIENT_CODES or failure.is_transient:
        return UpstreamTransient(message, upstream_code=upstream_code)
    if failure.status == 401 and code is None:
        return IntegrationExpired(message, upstream_code=failure.status)
    return UpstreamError(message, upstream_code=upstream_code)
