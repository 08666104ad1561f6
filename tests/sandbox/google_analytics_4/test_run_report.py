"""The emulated runReport against reference figures computed from the raw sessions."""

from __future__ import annotations

import gc
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect.networks.google_analytics_4.emulator.app import Ga4Emulator
from metrics_connect.networks.google_analytics_4.emulator.report import run_report

from .conftest import NOW, REPORT_URL, metric_table

START, END = date(2026, 2, 16), date(2026, 3, 15)  # 28 settled days


def body(metrics: list[str], dims: list[str] = (), **extra: Any) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "dateRanges": [{"startDate": START.isoformat(), "endDate": END.isoformat()}],
        "metrics": [{"name": m} for m in metrics],
        "dimensions": [{"name": d} for d in dims],
        **extra,
    }


async def report(api: httpx.AsyncClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(REPORT_URL, json=payload)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_period_users_are_the_distinct_users_of_the_exact_range(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    sessions = emulator.data.sessions(START, END, NOW)
    period = metric_table(await report(api, body(["totalUsers", "activeUsers", "sessions"])))[()]
    assert period["totalUsers"] == len({s.user.user_id for s in sessions})
    assert period["activeUsers"] == len({s.user.user_id for s in sessions if s.active})
    assert period["sessions"] == len(sessions)

    daily = metric_table(await report(api, body(["totalUsers"], ["date"])))
    per_day = [v["totalUsers"] for v in daily.values()]
    assert len(per_day) == 28
    # Unique over the range: at least the busiest day, well below the sum of days.
    assert max(per_day) <= period["totalUsers"] < sum(per_day)


async def test_rates_follow_ga4_definitions_per_row(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    table = metric_table(
        await report(
            api,
            body(
                [
                    "sessions",
                    "engagedSessions",
                    "engagementRate",
                    "bounceRate",
                    "eventsPerSession",
                    "eventCount",
                ],
                ["deviceCategory"],
            ),
        )
    )
    sessions = emulator.data.sessions(START, END, NOW)
    for (device,), row in table.items():
        mine = [s for s in sessions if s.device == device]
        engaged = sum(1 for s in mine if s.engaged)
        assert row["sessions"] == len(mine)
        assert row["engagedSessions"] == engaged
        assert row["engagementRate"] == pytest.approx(engaged / len(mine))
        assert row["bounceRate"] == pytest.approx(1 - engaged / len(mine))
        events = sum(s.value("eventCount") for s in mine)
        assert row["eventsPerSession"] == pytest.approx(events / len(mine))


async def test_additive_metrics_by_date_and_channel_match_raw_sums(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    table = metric_table(
        await report(
            api,
            body(
                ["sessions", "screenPageViews", "totalRevenue", "keyEvents"],
                ["date", "sessionDefaultChannelGroup"],
            ),
        )
    )
    expected: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0])
    for s in emulator.data.sessions(START, END, NOW):
        acc = expected[(s.day.strftime("%Y%m%d"), s.acquisition.channel)]
        acc[0] += 1
        acc[1] += s.value("screenPageViews")
        acc[2] += s.value("totalRevenue")
        acc[3] += s.value("keyEvents")
    assert set(table) == set(expected)
    for key, (n, views, revenue, key_events) in expected.items():
        row = table[key]
        assert row["sessions"] == n
        assert row["screenPageViews"] == views
        assert row["totalRevenue"] == pytest.approx(revenue)
        assert row["keyEvents"] == key_events


async def test_event_scoped_dimension_counts_events_and_their_sessions(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    table = metric_table(await report(api, body(["eventCount", "sessions"], ["eventName"])))
    sessions = emulator.data.sessions(START, END, NOW)
    purchases = [h for s in sessions for h in s.hits if h.event_name == "purchase"]
    assert table[("purchase",)]["eventCount"] == sum(h.values["eventCount"] for h in purchases)
    assert table[("session_start",)]["sessions"] == len(sessions)
    assert table[("first_visit",)]["eventCount"] == sum(1 for s in sessions if s.new_user)


async def test_filters_paging_and_order(api: httpx.AsyncClient, emulator: Ga4Emulator) -> None:
    wanted = ["Email", "Direct"]
    in_list = {
        "filter": {"fieldName": "sessionDefaultChannelGroup", "inListFilter": {"values": wanted}}
    }
    full = await report(
        api,
        body(
            ["sessions"],
            ["date", "sessionDefaultChannelGroup"],
            dimensionFilter=in_list,
            orderBys=[
                {"dimension": {"dimensionName": "date"}},
                {"metric": {"metricName": "sessions"}, "desc": True},
            ],
        ),
    )
    assert {r["dimensionValues"][1]["value"] for r in full["rows"]} == set(wanted)
    raw = sum(1 for s in emulator.data.sessions(START, END, NOW) if s.acquisition.channel in wanted)
    assert sum(int(r["metricValues"][0]["value"]) for r in full["rows"]) == raw
    dates = [r["dimensionValues"][0]["value"] for r in full["rows"]]
    assert dates == sorted(dates)

    pages: list[dict[str, Any]] = []
    offset = 0
    while offset < full["rowCount"]:
        page = await report(
            api,
            body(
                ["sessions"],
                ["date", "sessionDefaultChannelGroup"],
                dimensionFilter=in_list,
                limit=7,
                offset=offset,
                orderBys=[
                    {"dimension": {"dimensionName": "date"}},
                    {"metric": {"metricName": "sessions"}, "desc": True},
                ],
            ),
        )
        assert page["rowCount"] == full["rowCount"]
        assert len(page["rows"]) <= 7
        pages.extend(page["rows"])
        offset += len(page["rows"])
    assert pages == full["rows"]

    excluded = await report(
        api,
        body(
            ["sessions"], ["sessionDefaultChannelGroup"], dimensionFilter={"notExpression": in_list}
        ),
    )
    assert not {r["dimensionValues"][0]["value"] for r in excluded["rows"]} & set(wanted)


async def test_totals_are_deduplicated_and_date_ranges_are_labelled(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    payload = body(["totalUsers"], ["country"], metricAggregations=["TOTAL"])
    payload["dateRanges"].append(
        {"startDate": "2026-01-19", "endDate": "2026-02-15", "name": "previous"}
    )
    result = await report(api, payload)
    assert [h["name"] for h in result["dimensionHeaders"]] == ["country", "dateRange"]
    labels = {r["dimensionValues"][1]["value"] for r in result["rows"]}
    assert labels == {"date_range_0", "previous"}
    totals = {
        t["dimensionValues"][1]["value"]: int(t["metricValues"][0]["value"])
        for t in result["totals"]
    }
    sessions = emulator.data.sessions(START, END, NOW)
    assert totals["date_range_0"] == len({s.user.user_id for s in sessions})
    by_country = sum(
        int(r["metricValues"][0]["value"])
        for r in result["rows"]
        if r["dimensionValues"][1]["value"] == "date_range_0"
    )
    assert totals["date_range_0"] <= by_country


async def test_linked_google_ads_and_search_console_metrics(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    ads = metric_table(
        await report(
            api,
            body(
                ["advertiserAdClicks", "advertiserAdCost", "advertiserAdCostPerClick"],
                ["googleAdsCampaignName"],
            ),
        )
    )
    days = [START + timedelta(days=i) for i in range(28)]
    rows = [r for d in days for r in emulator.data.linked_ads(d, NOW)]
    brand = [r for r in rows if r.campaign == "Brand - Acme Coffee"]
    got = ads[("Brand - Acme Coffee",)]
    assert got["advertiserAdClicks"] == sum(r.clicks for r in brand)
    assert got["advertiserAdCost"] == pytest.approx(sum(r.cost for r in brand))
    assert got["advertiserAdCostPerClick"] == pytest.approx(
        sum(r.cost for r in brand) / sum(r.clicks for r in brand)
    )

    search = metric_table(
        await report(
            api,
            body(["organicGoogleSearchClicks", "organicGoogleSearchAveragePosition"], ["country"]),
        )
    )
    sc = [r for d in days for r in emulator.data.organic_search(d, NOW) if r.country == "Brazil"]
    assert search[("Brazil",)]["organicGoogleSearchClicks"] == sum(r.clicks for r in sc)
    assert search[("Brazil",)]["organicGoogleSearchAveragePosition"] == pytest.approx(
        sum(r.position_sum for r in sc) / sum(r.impressions for r in sc)
    )


async def test_today_is_partial_and_the_future_empty(api: httpx.AsyncClient) -> None:
    today = metric_table(
        await report(
            api,
            {
                "dateRanges": [{"startDate": "today", "endDate": "today"}],
                "metrics": [{"name": "sessions"}],
            },
        )
    )
    yesterday = metric_table(
        await report(
            api,
            {
                "dateRanges": [{"startDate": "yesterday", "endDate": "yesterday"}],
                "metrics": [{"name": "sessions"}],
            },
        )
    )
    assert 0 < today[()]["sessions"] < yesterday[()]["sessions"]
    future = await report(
        api,
        {
            "dateRanges": [{"startDate": "2026-03-20", "endDate": "2026-03-25"}],
            "metrics": [{"name": "sessions"}],
        },
    )
    assert future["rowCount"] == 0 and "rows" not in future


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (body(["sessionz"]), "sessionz is not a valid metric"),
        (body([f"m{i}" for i in range(3)]), "not a valid metric"),
        (
            body(
                [
                    "sessions",
                    "eventCount",
                    "newUsers",
                    "totalUsers",
                    "activeUsers",
                    "keyEvents",
                    "eventValue",
                    "totalRevenue",
                    "transactions",
                    "checkouts",
                    "addToCarts",
                ]
            ),
            "limited to 10 metrics",
        ),
        (body(["sessions"], ["itemName"]), "Please remove sessions"),
        (body(["advertiserAdClicks"], ["city"]), "Please remove advertiserAdClicks"),
        ({"metrics": [{"name": "sessions"}]}, "Date ranges must be specified"),
        (
            {
                "metrics": [{"name": "sessions"}],
                "dateRanges": [{"startDate": "2026-03-02", "endDate": "2026-03-01"}],
            },
            "must not be after",
        ),
        (
            {
                "metrics": [{"name": "sessions"}],
                "dateRanges": [{"startDate": "yesterday", "endDate": "today"}] * 5,
            },
            "limited to 4",
        ),
    ],
)
async def test_invalid_requests_answer_invalid_argument(
    api: httpx.AsyncClient, payload: dict[str, Any], fragment: str
) -> None:
    response = await api.post(REPORT_URL, json=payload)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["code"] == 400
    assert fragment in error["message"]


async def test_tokens_and_permissions(api: httpx.AsyncClient, emulator: Ga4Emulator) -> None:
    payload = body(["sessions"])
    missing = await api.post(REPORT_URL, json=payload, headers={"Authorization": ""})
    assert missing.status_code == 401 and missing.json()["error"]["status"] == "UNAUTHENTICATED"
    foreign = await api.post(REPORT_URL, json=payload, headers={"Authorization": "Bearer ya29.x"})
    assert foreign.status_code == 401
    emulator.controls.switches.expired_tokens.add("sandbox-old")
    expired = await api.post(
        REPORT_URL, json=payload, headers={"Authorization": "Bearer sandbox-old"}
    )
    assert expired.json()["error"] == {
        "code": 401,
        "status": "UNAUTHENTICATED",
        "message": expired.json()["error"]["message"],
    }
    emulator.controls.switches.revoked_tokens.add("sandbox-gone")
    revoked = await api.post(
        REPORT_URL, json=payload, headers={"Authorization": "Bearer sandbox-gone"}
    )
    assert revoked.status_code == 403 and revoked.json()["error"]["status"] == "PERMISSION_DENIED"
    other = await api.post("/v1beta/properties/999:runReport", json=payload)
    assert other.status_code == 403


async def test_property_quota_is_reported_and_enforced(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    first = await report(api, body(["sessions"], ["date"], returnPropertyQuota=True))
    quota = first["propertyQuota"]
    spent = quota["tokensPerHour"]["consumed"]
    assert spent >= 1
    assert quota["tokensPerHour"]["remaining"] == 40_000 - spent
    assert quota["tokensPerDay"]["remaining"] == 200_000 - spent
    emulator.property_quota.buckets["tokensPerHour"].limit = spent + 1
    await report(api, body(["sessions"], ["date"]))
    refused = await api.post(REPORT_URL, json=body(["sessions"]))
    assert refused.status_code == 429
    assert refused.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert "tokens per hour" in refused.json()["error"]["message"]
    # The bucket renews with the next hour (property time).
    from datetime import timedelta as _td

    emulator.controls.clock.advance(_td(hours=1))
    assert (await api.post(REPORT_URL, json=body(["sessions"]))).status_code == 200


async def test_fault_switches_and_call_counter(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    emulator.controls.switches.rate_limit_next = 2
    statuses = [(await api.post(REPORT_URL, json=body(["sessions"]))).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    emulator.controls.switches.server_error_ratio = 1.0
    failed = await api.post(REPORT_URL, json=body(["sessions"]))
    assert failed.status_code == 503 and failed.json()["error"]["status"] == "UNAVAILABLE"
    assert emulator.controls.calls.by_endpoint["runReport"] == 4


async def test_batch_run_reports(api: httpx.AsyncClient) -> None:
    response = await api.post(
        REPORT_URL.replace(":runReport", ":batchRunReports"),
        json={"requests": [body(["sessions"]), body(["totalUsers"], ["deviceCategory"])]},
    )
    assert response.status_code == 200
    reports = response.json()["reports"]
    assert len(reports) == 2 and reports[1]["dimensionHeaders"] == [{"name": "deviceCategory"}]


def test_data_is_deterministic(emulator: Ga4Emulator) -> None:
    from metrics_connect.networks.google_analytics_4.emulator.data import PropertyData

    fresh = PropertyData()
    fresh_day = fresh._generate(START)  # bypass the shared cache
    cached = emulator.data.day(START)
    assert [(s.session_id, s.user.user_id, s.totals) for s in fresh_day.sessions] == [
        (s.session_id, s.user.user_id, s.totals) for s in cached.sessions
    ]


def test_a_report_runs_without_the_cyclic_collector(emulator: Ga4Emulator) -> None:
    """The collector's passes over the property's cached raw data (started by a report's
    own allocations) were about 40 % of a runReport's CPU: none runs during a report, and
    the collector is as it was afterwards. (Counted, not timed.)"""
    started: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    payload = body(["totalUsers", "eventCount"], ["eventName", "sessionSource"])
    payload["dateRanges"] = [{"startDate": "2025-09-20", "endDate": END.isoformat()}]
    gc.callbacks.append(count)
    try:
        gc.collect()  # from zero: the few allocations before the report start none
        started.clear()
        result = run_report(emulator.data, payload, NOW)
    finally:
        gc.callbacks.remove(count)
    assert result.body["rowCount"] > 0
    # At most the one young collection that the report's leftovers start once the
    # collector is back (there were hundreds).
    assert len(started) <= 1
    assert gc.isenabled()
    gc.disable()
    try:
        run_report(emulator.data, body(["sessions"]), NOW)
        assert not gc.isenabled()  # a caller that paused it keeps it paused
    finally:
        gc.enable()


async def test_a_daily_report_of_events_and_ads_cost_answers_the_same_when_asked_again(
    api: httpx.AsyncClient, emulator: Ga4Emulator
) -> None:
    """The day's cached event figures and the linked Ads rows are joined per answer: asking
    again must not add the Ads cost a second time."""
    payload = body(["sessions", "advertiserAdCost"], ["date"])
    first = metric_table(await report(api, payload))
    again = metric_table(await report(api, payload))
    assert again == first
    day = START + timedelta(days=3)
    cost = sum(r.cost for r in emulator.data.linked_ads(day, NOW))
    assert cost > 0
    assert again[(day.strftime("%Y%m%d"),)]["advertiserAdCost"] == pytest.approx(cost)


def test_clear_caches_leaves_nothing_cached(emulator: Ga4Emulator) -> None:
    """What bench/ga4_dashboard.py calls for its cold start."""
    from metrics_connect.networks.google_analytics_4.emulator import data, report

    emulator.data.sessions(START, START + timedelta(days=1), NOW)
    assert data._shared_day.cache_info().currsize > 0
    report.clear_caches()
    assert data._shared_day.cache_info().currsize == 0
    assert data._user.cache_info().currsize == 0
    assert not report._DAY_GROUPS
