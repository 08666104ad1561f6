"""The error map: an upstream failure (as the family's envelope parser reads it) to the
contract's exceptions, by the ordered rules of the network's streams.yaml."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from metrics_connect import clock
from metrics_connect.connectors.base import (
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransient,
)
from metrics_connect.connectors.kit.spec import ErrorRule, Errors


class TooMuchData(UpstreamError):
    """A synchronous query too heavy for the API: run it as an asynchronous report."""


class QuotaExhausted(UpstreamRateLimited):
    """A quota that renews only later (next hour, next day): not worth retrying now."""


@dataclass(frozen=True)
class Failure:
    """What the network answered, before classification (for logs and errors)."""

    status: int  # HTTP status; 0 when nothing came back
    code: int | None = None
    subcode: int | None = None
    message: str = ""
    status_text: str | None = None  # Google's error.status
    transient: bool = False  # Graph's is_transient


# A source of retry-after seconds: (failure, headers) -> seconds or None.
RetryAfterSource = Callable[[Failure, Mapping[str, str]], float | None]


def retry_after_header(_: Failure, headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after")
    return float(raw) if raw and raw.replace(".", "", 1).isdigit() else None


def reset_epoch_header(_: Failure, headers: Mapping[str, str]) -> float | None:
    """Seconds until x-rate-limit-reset, the epoch second a rate-limit window renews
    (X's headers; 0 when already past)."""
    raw = headers.get("x-rate-limit-reset")
    if raw and raw.strip().isdigit():
        return max(0.0, int(raw) - clock.now().timestamp())
    return None


def reset_milliseconds_header(_: Failure, headers: Mapping[str, str]) -> float | None:
    """x-rate-limit-reset as milliseconds until a leaky bucket is empty (Nuvemshop)."""
    raw = headers.get("x-rate-limit-reset")
    return int(raw) / 1000 if raw and raw.strip().isdigit() else None


def is_retryable(error: BaseException) -> bool:
    """Rate limits and transient failures, except quotas that renew only later."""
    if isinstance(error, QuotaExhausted):
        return False
    return isinstance(error, UpstreamRateLimited | UpstreamTransient)


class ErrorMap:
    def __init__(self, errors: Errors, sources: Mapping[str, RetryAfterSource]) -> None:
        self.rules = errors.map
        self.prefix = errors.envelope.message_prefix
        self.sources = {
            "retry_after_header": retry_after_header,
            "reset_epoch_header": reset_epoch_header,
            "reset_milliseconds_header": reset_milliseconds_header,
            **sources,
        }
        self._numbers = [(rule.statuses(), rule.codes()) for rule in self.rules]

    def rule_for(self, failure: Failure) -> ErrorRule | None:
        for rule, (statuses, codes) in zip(self.rules, self._numbers, strict=True):
            if _matches(rule, statuses, codes, failure):
                return rule
        return None

    def classify(self, failure: Failure, headers: Mapping[str, str] | None = None) -> UpstreamError:
        rule = self.rule_for(failure)
        message = f"{self.prefix}{failure.message}"
        upstream = failure.code if failure.code is not None else failure.status_text
        code: str | int | None = upstream if upstream is not None else failure.status
        if rule is None or rule.outcome == "bad_request":
            return UpstreamError(message, upstream_code=code)
        if rule.outcome == "expired":
            return IntegrationExpired(message, upstream_code=code)
        if rule.outcome == "revoked":
            return IntegrationRevoked(message, upstream_code=code)
        if rule.outcome == "transient":
            return UpstreamTransient(message, upstream_code=code)
        if rule.outcome == "too_much_data":
            return TooMuchData(message, upstream_code=code)
        retry_after = None
        for name in rule.retry_after:
            source = self.sources.get(name)
            retry_after = source(failure, headers or {}) if source else None
            if retry_after is not None:
                break
        kind = UpstreamRateLimited if rule.retryable else QuotaExhausted
        return kind(message, upstream_code=code, retry_after=retry_after)


def _matches(
    rule: ErrorRule, statuses: frozenset[int], codes: frozenset[int], failure: Failure
) -> bool:
    if statuses and failure.status not in statuses:
        return False
    if codes and failure.code not in codes:
        return False
    if rule.subcode and failure.subcode not in rule.subcode:
        return False
    if rule.status and failure.status_text not in rule.status:
        return False
    if rule.transient_flag is not None and failure.transient != rule.transient_flag:
        return False
    if rule.no_code is not None and (failure.code is None) != rule.no_code:
        return False
    text = failure.message.lower()
    return not rule.message_contains or any(m.lower() in text for m in rule.message_contains)
