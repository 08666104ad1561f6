"""Account insights over HTTP: windows, metric types, breakdowns, deprecations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx

from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from tests.sandbox.instagram.conftest import IG, get


def _ts(sandbox: InstagramSandbox, day: date) -> int:
    return int(sandbox.day_start(day).timestamp())


async def test_day_series_matches_raw_truth_with_end_times(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    first = date(2024, 8, 1)
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach,impressions",
        period="day",
        since=_ts(sandbox, first),
        until=_ts(sandbox, first + timedelta(days=30)),
    )
    assert r.status_code == 200, r.text
    data = {d["name"]: d for d in r.json()["data"]}
    values = data["reach"]["values"]
    assert len(values) == 30
    for offset, value in enumerate(values):
        day = first + timedelta(days=offset)
        assert value["value"] == sandbox.daily_value("reach", day)
        # The period ends at Pacific midnight (Meta's insights day), written in UTC.
        assert value["end_time"] == f"{day + timedelta(days=1)}T07:00:00+0000"
    assert data["reach"]["id"] == f"{IG}/insights/reach/day"
    assert set(r.json()["paging"]) == {"previous", "next"}


async def test_window_over_30_days_is_rejected(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    first = date(2024, 7, 1)
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach",
        period="day",
        since=_ts(sandbox, first),
        until=_ts(sandbox, first + timedelta(days=31)),
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == 100
    assert "30 days" in error["message"]
    assert error["type"] == "OAuthException"
    assert error["fbtrace_id"]


async def test_account_insights_older_than_90_days_are_rejected(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    first = date(2024, 5, 1)
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach",
        period="day",
        since=_ts(sandbox, first),
        until=_ts(sandbox, first + timedelta(days=10)),
    )
    assert r.status_code == 400
    assert "90 days" in r.json()["error"]["message"]


async def test_days_before_creation_and_future_days_are_absent(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    sandbox.controls.clock.set(sandbox.day_start(date(2023, 6, 10)) + timedelta(hours=12))
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach",
        period="day",
        since=_ts(sandbox, date(2023, 5, 25)),
        until=_ts(sandbox, date(2023, 6, 20)),
    )
    values = r.json()["data"][0]["values"]
    days = [v["end_time"][:10] for v in values]
    assert days[0] == "2023-06-02"  # the account's first day, 2023-06-01
    assert days[-1] == "2023-06-11"  # today (partial); nothing from the future
    today_value = values[-1]["value"]
    assert 0 < today_value < sandbox.figures(date(2023, 6, 10)).totals["reach"]  # type: ignore[union-attr]


async def test_total_value_requires_metric_type_and_matches_period(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    since, until = date(2024, 8, 3), date(2024, 8, 16)
    window = {"since": _ts(sandbox, since), "until": _ts(sandbox, until + timedelta(days=1))}
    r = await get(graph, f"/v21.0/{IG}/insights", metric="likes", period="day", **window)
    assert r.status_code == 400
    assert "metric_type=total_value" in r.json()["error"]["message"]

    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach,accounts_engaged,total_interactions",
        period="day",
        metric_type="total_value",
        **window,
    )
    assert r.status_code == 200, r.text
    for item in r.json()["data"]:
        assert item["total_value"]["value"] == sandbox.period_total(item["name"], since, until)

    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach",
        period="day",
        metric_type="total_value",
        breakdown="media_product_type",
        **window,
    )
    total = r.json()["data"][0]["total_value"]
    breakdown = total["breakdowns"][0]
    assert breakdown["dimension_keys"] == ["media_product_type"]
    assert sum(x["value"] for x in breakdown["results"]) == total["value"]
    assert {x["dimension_values"][0] for x in breakdown["results"]} <= {
        "POST",
        "CAROUSEL_CONTAINER",
        "REEL",
        "STORY",
    }

    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="profile_links_taps",
        period="day",
        metric_type="total_value",
        breakdown="contact_button_type",
        **window,
    )
    taps = r.json()["data"][0]["total_value"]
    assert taps["value"] == sandbox.period_total("profile_links_taps", since, until)

    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="likes",
        period="day",
        metric_type="total_value",
        breakdown="contact_button_type",
        **window,
    )
    assert r.status_code == 400


async def test_follower_count_only_last_30_days(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    today = sandbox.today()
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="follower_count",
        period="day",
        since=_ts(sandbox, today - timedelta(days=29)),
        until=_ts(sandbox, today + timedelta(days=1)),
    )
    assert r.status_code == 200, r.text
    values = r.json()["data"][0]["values"]
    assert len(values) == 29  # the current day is excluded
    assert values[-1]["value"] == sandbox.follows(today - timedelta(days=1))
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="follower_count",
        period="day",
        since=_ts(sandbox, today - timedelta(days=40)),
        until=_ts(sandbox, today - timedelta(days=20)),
    )
    assert r.status_code == 400
    assert "30 days" in r.json()["error"]["message"]


async def test_deprecated_metrics_follow_the_version(graph: httpx.AsyncClient) -> None:
    ok = await get(graph, f"/v21.0/{IG}/insights", metric="impressions", period="day")
    assert ok.status_code == 200
    gone = await get(graph, f"/v22.0/{IG}/insights", metric="impressions", period="day")
    assert gone.status_code == 400
    assert gone.json()["error"]["message"].startswith(
        "(#100) Starting from version 22 and above, the impressions metric is no longer supported"
    )
    unknown = await get(graph, f"/v21.0/{IG}/insights", metric="reach,bogus", period="day")
    assert unknown.json()["error"]["message"].startswith("(#100) metric[1] must be one of")
    old = await get(graph, f"/v20.0/{IG}/insights", metric="email_contacts", period="day")
    assert old.status_code == 200
    new = await get(graph, f"/v21.0/{IG}/insights", metric="email_contacts", period="day")
    assert new.status_code == 400


async def test_follower_demographics(graph: httpx.AsyncClient, sandbox: InstagramSandbox) -> None:
    base = {"metric": "follower_demographics", "period": "lifetime", "metric_type": "total_value"}
    r = await get(graph, f"/v21.0/{IG}/insights", breakdown="gender", **base)
    assert r.status_code == 400  # timeframe is required
    r = await get(
        graph, f"/v21.0/{IG}/insights", breakdown="gender", timeframe="this_month", **base
    )
    results = r.json()["data"][0]["total_value"]["breakdowns"][0]["results"]
    by_gender = {x["dimension_values"][0]: x["value"] for x in results}
    assert by_gender == {k: v for k, v in sandbox.demographics("gender").items() if v}
    assert sum(by_gender.values()) == sandbox.followers_at_day_start(sandbox.today())
    r = await get(graph, f"/v21.0/{IG}/insights", breakdown="city", timeframe="this_week", **base)
    cities = r.json()["data"][0]["total_value"]["breakdowns"][0]["results"]
    assert len(cities) == 45
    assert cities == sorted(cities, key=lambda x: x["value"], reverse=True)
    r = await get(
        graph, f"/v21.0/{IG}/insights", breakdown="age,gender", timeframe="this_month", **base
    )
    joint = r.json()["data"][0]["total_value"]["breakdowns"][0]
    assert joint["dimension_keys"] == ["age", "gender"]
    assert all(len(x["dimension_values"]) == 2 for x in joint["results"])
    legacy = await get(
        graph, f"/v21.0/{IG}/insights", breakdown="age", timeframe="last_30_days", **base
    )
    assert legacy.status_code == 400


async def test_online_followers(graph: httpx.AsyncClient, sandbox: InstagramSandbox) -> None:
    r = await get(graph, f"/v21.0/{IG}/insights", metric="online_followers", period="lifetime")
    assert r.status_code == 200
    values = r.json()["data"][0]["values"]
    assert len(values) == 1  # default range: yesterday (today has not ended)
    hours = values[0]["value"]
    yesterday = sandbox.today() - timedelta(days=1)
    assert hours == {str(h): n for h, n in sandbox.online_followers(yesterday).items()}
    wrong = await get(graph, f"/v21.0/{IG}/insights", metric="online_followers", period="day")
    assert wrong.status_code == 400


async def test_online_followers_older_than_30_days_are_empty(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    today = sandbox.today()
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="online_followers",
        period="lifetime",
        since=_ts(sandbox, today - timedelta(days=35)),
        until=_ts(sandbox, today - timedelta(days=25)),
    )
    values = r.json()["data"][0]["values"]
    assert len(values) == 10
    assert [bool(v["value"]) for v in values] == [False] * 5 + [True] * 5


async def test_audience_demographics_follow_the_period_figures(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reached_audience_demographics,engaged_audience_demographics",
        period="lifetime",
        metric_type="total_value",
        breakdown="country",
        timeframe="this_month",
    )
    assert r.status_code == 200, r.text
    today = sandbox.today()
    first, last = today.replace(day=1), today - timedelta(days=1)
    for item, metric in zip(r.json()["data"], ("reach", "accounts_engaged"), strict=True):
        results = item["total_value"]["breakdowns"][0]["results"]
        assert sum(x["value"] for x in results) == sandbox.period_total(metric, first, last)
        assert results[0]["dimension_values"] == ["BR"]


async def test_sunset_dates_are_enforced_by_default(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    handler = network.graph_app.handler
    assert handler.enforce_sunsets
    # Before 2025-04-21 v21.0 still answers impressions.
    assert (
        await get(graph, f"/v21.0/{IG}/insights", metric="impressions", period="day")
    ).status_code == 200
    sandbox.controls.clock.set(datetime(2025, 5, 2, 15, tzinfo=UTC))
    gone = await get(graph, f"/v21.0/{IG}/insights", metric="reach,impressions", period="day")
    assert gone.status_code == 400
    # From the sunset on, Meta answers the generic list of the metrics still served.
    message = gone.json()["error"]["message"]
    assert message.startswith("(#100) metric[1] must be one of the following values: reach, ")
    assert "impressions" not in message
    old_post = sandbox.media(until=datetime(2024, 6, 20, tzinfo=UTC), product_type="FEED")[0]
    new_post = sandbox.media(since=datetime(2024, 8, 1, tzinfo=UTC), product_type="FEED")[-1]
    kept = await get(graph, f"/v21.0/{old_post.id}/insights", metric="impressions")
    assert kept.status_code == 200
    dropped = await get(graph, f"/v21.0/{new_post.id}/insights", metric="impressions")
    assert dropped.status_code == 400
    handler.enforce_sunsets = False
    assert (
        await get(graph, f"/v21.0/{IG}/insights", metric="impressions", period="day")
    ).status_code == 200


async def test_bad_times_are_parameter_errors(graph: httpx.AsyncClient) -> None:
    for since in ("yesterday-ish", "1e300", "2024-13-45"):
        r = await get(graph, f"/v21.0/{IG}/insights", metric="reach", period="day", since=since)
        assert r.status_code == 400, since
        assert r.json()["error"]["code"] == 100
