"""The kit's calendar token quota: charged, refused in order, renewed by its window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from metrics_connect.sandbox.kit.token_quota import Bucket, QuotaSpec, TokenQuota

NOON = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # 12:00 in Sao Paulo


def quota() -> TokenQuota:
    buckets = {
        "perDay": Bucket(limit=10, counts="tokens", window="day", refusal="day spent"),
        "perHour": Bucket(limit=4, counts="tokens", window="hour", refusal="hour spent"),
        "inFlight": Bucket(limit=1, counts="requests_in_flight", refusal="busy"),
        "errors": Bucket(limit=3, counts="server_errors", window="hour"),
    }
    return TokenQuota("America/Sao_Paulo", QuotaSpec(buckets, ("perDay", "perHour", "inFlight")))


def test_tokens_are_charged_reported_and_refused_until_the_window_renews() -> None:
    q = quota()
    assert q.check(NOON) is None
    q.charge(NOON, 3)
    assert q.status(3) == {
        "perDay": {"consumed": 3, "remaining": 7},
        "perHour": {"consumed": 3, "remaining": 1},
        "inFlight": {"consumed": 0, "remaining": 1},
        "errors": {"consumed": 0, "remaining": 3},
    }
    q.charge(NOON, 1)
    assert q.check(NOON) == "hour spent"
    next_hour = NOON + timedelta(hours=1)
    assert q.check(next_hour) is None
    q.charge(next_hour, 4)
    q.charge(next_hour + timedelta(hours=1), 2)
    # The day bucket is checked first; it renews at local midnight (03:00 UTC).
    assert q.check(next_hour + timedelta(hours=1)) == "day spent"
    assert q.check(datetime(2026, 3, 19, 3, 0, tzinfo=UTC)) is None


def test_requests_in_flight_and_server_errors() -> None:
    q = quota()
    with q.in_flight():
        assert q.check(NOON) == "busy"
        assert q.status(0)["inFlight"]["remaining"] == 0
    assert q.check(NOON) is None
    q.record_server_error(NOON)
    assert q.status(0)["errors"]["remaining"] == 2
    q.check(NOON + timedelta(hours=1))
    assert q.status(0)["errors"]["remaining"] == 3
