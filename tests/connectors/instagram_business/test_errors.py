"""Graph error codes map to the connector contract's errors (one test per code family)."""

from __future__ import annotations

import json

import pytest

from metrics_connect.connectors.base import (
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransient,
)
from metrics_connect.connectors.kit.errors import Failure, is_retryable
from metrics_connect.connectors.kit.meta_graph import errors
from metrics_connect.networks.instagram_business.connector.hooks import STREAMS

# Instagram's error map (streams.yaml) read by the Meta Graph kit.
ERRORS = errors.error_map(STREAMS)
USAGE_HEADERS = STREAMS.errors.envelope.usage_headers


def parse_failure(status: int, body: object) -> Failure:
    return errors.parse_failure(status, body)


def classify(failure: Failure, headers: dict[str, str] | None = None) -> UpstreamError:
    return ERRORS.classify(failure, headers)


def regain_access_seconds(headers: dict[str, str]) -> float | None:
    return errors.regain_access_seconds(headers, USAGE_HEADERS)


def max_usage_percent(headers: dict[str, str]) -> float | None:
    return errors.max_usage_percent(headers, USAGE_HEADERS)


def graph_error(code: int, message: str = "boom", **extra: object) -> dict[str, object]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, **extra}}


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80002])
def test_throttling_codes_are_rate_limits(code: int) -> None:
    error = classify(parse_failure(400, graph_error(code, "(#4) Application request limit")))
    assert isinstance(error, UpstreamRateLimited)
    assert error.code == "upstream_rate_limited"
    assert is_retryable(error)


def test_http_429_without_body_is_a_rate_limit_with_retry_after() -> None:
    error = classify(parse_failure(429, None), {"retry-after": "3"})
    assert isinstance(error, UpstreamRateLimited)
    assert error.retry_after == 3.0


def test_usage_header_gives_the_time_to_regain_access() -> None:
    usage = {
        "17841400000000001": [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 30,
                "estimated_time_to_regain_access": 2,
            }
        ]
    }
    headers = {"x-business-use-case-usage": json.dumps(usage)}
    assert regain_access_seconds(headers) == 120.0
    assert max_usage_percent(headers) == 100.0
    error = classify(parse_failure(400, graph_error(80002)), headers)
    assert isinstance(error, UpstreamRateLimited) and error.retry_after == 120.0
    assert max_usage_percent({"x-app-usage": '{"call_count": 42, "total_time": 7}'}) == 42.0


@pytest.mark.parametrize("status,body", [(500, None), (503, graph_error(2)), (400, graph_error(1))])
def test_server_errors_are_transient(status: int, body: object) -> None:
    error = classify(parse_failure(status, body))
    assert isinstance(error, UpstreamTransient) and is_retryable(error)


def test_is_transient_flag_is_honoured() -> None:
    error = classify(parse_failure(400, graph_error(9999, is_transient=True)))
    assert isinstance(error, UpstreamTransient)


def test_invalid_token_is_expired() -> None:
    body = graph_error(190, "Error validating access token: Session has expired", error_subcode=463)
    failure = parse_failure(400, json.dumps(body))
    assert failure.subcode == 463
    error = classify(failure)
    assert isinstance(error, IntegrationExpired)
    assert error.code == "integration_expired" and not is_retryable(error)


@pytest.mark.parametrize("code", [10, 200, 230, 299])
def test_permission_codes_are_revoked(code: int) -> None:
    error = classify(
        parse_failure(403, graph_error(code, "(#10) Application does not have permission"))
    )
    assert isinstance(error, IntegrationRevoked) and not is_retryable(error)


def test_bad_parameter_keeps_the_upstream_message() -> None:
    message = "(#100) There cannot be more than 30 days (2592000 s) between since and until"
    error = classify(parse_failure(400, graph_error(100, message)))
    assert type(error) is UpstreamError
    assert error.code == "upstream_error"
    assert error.message == message and error.upstream_code == 100
    assert not is_retryable(error)
