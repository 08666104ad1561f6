"""Marketing API failures mapped to the connector contract's errors.

From Meta's documentation (Graph API error handling, Marketing API rate limiting,
Business Use Case rate limits, Insights API limits):
- throttling: 4 (app), 17 (user), 32, 613 (ad account), 80000-80014 (business use case
  limits; 80000 is ads_insights), and HTTP 429. `X-Business-Use-Case-Usage` gives
  `estimated_time_to_regain_access` in minutes.
- transient: 1, 2 and any 5xx or `is_transient: true`. Code 1 subcode 99 ("Please reduce
  the amount of data you're asking for") is not transient: the same query fails again,
  so the connector reruns it as an asynchronous report run.
- 190 (and 102): invalid or expired token -> the integration is expired.
- 10 and 200-299: permission missing (ads_read withdrawn) -> revoked.
- 100 and the rest: bad request; the upstream message says what.
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

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
EXPIRED_TOKEN_CODES = frozenset({190, 102})
TOO_MUCH_DATA_SUBCODE = 99


class TooMuchData(UpstreamError):
    """A synchronous query too heavy for the API: run it as an async report instead."""


@dataclass(frozen=True)
class GraphFailure:
    status: int
    code: int | None
    subcode: int | None
    message: str
    transient: bool = False


def parse_failure(status: int, body: Any) -> GraphFailure:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return GraphFailure(status, None, None, f"HTTP {status} from the Marketing API")
    code = error.get("code")
    subcode = error.get("error_subcode")
    return GraphFailure(
        status,
        int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
        int(subcode) if isinstance(subcode, int | str) and str(subcode).isdigit() else None,
        str(error.get("error_user_msg") or error.get("message") or f"HTTP {status}"),
        bool(error.get("is_transient")),
    )


def regain_seconds(headers: Mapping[str, str]) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) of the usage headers."""
    raw = headers.get("x-business-use-case-usage") or headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = [
        float(entry.get("estimated_time_to_regain_access") or 0)
        for entries in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    return max(minutes) * 60 if minutes else None


def classify(failure: GraphFailure, headers: Mapping[str, str]) -> UpstreamError:
    code = failure.code
    text = f"Meta Marketing API: {failure.message}"
    if code in EXPIRED_TOKEN_CODES:
        return IntegrationExpired(text, upstream_code=code)
    if code == 10 or (code is not None and 200 <= code <= 299):
        return IntegrationRevoked(text, upstream_code=code)
    if code in RATE_LIMIT_CODES or failure.status == 429:
        return UpstreamRateLimited(text, upstream_code=code, retry_after=regain_seconds(headers))
    if code == 1 and failure.subcode == TOO_MUCH_DATA_SUBCODE:
        return TooMuchData(text, upstream_code=code)
    if code in TRANSIENT_CODES or failure.status >= 500 or failure.transient:
        return UpstreamTransient(text, upstream_code=code or failure.status)
    return UpstreamError(text, upstream_code=code or failure.status)
