"""Property checks over arbitrary windows: apportioning, deduplicated totals, and the
HTTP totals agreeing with the raw truth."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from metrics_connect.sandbox.kit.seeded import apportion
from tests.sandbox.instagram.conftest import IG, get

FIRST = date(2023, 6, 1)


@given(
    total=st.integers(min_value=0, max_value=10**7),
    weights=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=60),
)
def test_apportion_sums_and_stays_non_negative(total: int, weights: list[float]) -> None:
    parts = apportion(total, weights)
    assert len(parts) == len(weights)
    assert all(p >= 0 for p in parts)
    assert sum(parts) == total


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(offset=st.integers(min_value=0, max_value=440), span=st.integers(min_value=2, max_value=30))
def test_unique_totals_bounded_by_days(sandbox: InstagramSandbox, offset: int, span: int) -> None:
    since = FIRST + timedelta(days=offset)
    until = since + timedelta(days=span - 1)
    for metric in ("reach", "accounts_engaged"):
        daily = [sandbox.daily_value(metric, since + timedelta(days=i)) for i in range(span)]
        total = sandbox.period_total(metric, since, until)
        assert isinstance(total, int)
        assert max(daily) <= total < sum(daily)
    by_follow = sandbox.period_total("reach", since, until, "follow_type")
    assert isinstance(by_follow, dict)
    assert sum(by_follow.values()) == sandbox.period_total("reach", since, until)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offset=st.integers(min_value=370, max_value=430), span=st.integers(min_value=1, max_value=30)
)
async def test_http_totals_equal_raw_truth(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox, offset: int, span: int
) -> None:
    since = FIRST + timedelta(days=offset)
    until = since + timedelta(days=span)
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach,views,replies,follows_and_unfollows",
        period="day",
        metric_type="total_value",
        since=int(sandbox.day_start(since).timestamp()),
        until=int(sandbox.day_start(until).timestamp()),
    )
    assert r.status_code == 200, r.text
    for item in r.json()["data"]:
        expected = sandbox.period_total(item["name"], since, until - timedelta(days=1))
        assert item["total_value"]["value"] == expected
