"""Conformance: the official client (`google-analytics-data`, REST transport) against the
emulator served on a loopback port: the calls our connector makes and the common ones."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
import uvicorn
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.types import (
    BatchRunReportsRequest,
    CheckCompatibilityRequest,
    Compatibility,
    DateRange,
    Dimension,
    Filter,
    FilterExpression,
    Metric,
    MetricAggregation,
    MetricType,
    MinuteRange,
    OrderBy,
    RunRealtimeReportRequest,
    RunReportRequest,
)
from google.api_core import exceptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials
from google.oauth2.credentials import Credentials

from metrics_connect.networks.google_analytics_4.emulator.app import Ga4Emulator, create_app
from metrics_connect.networks.google_analytics_4.emulator.network import build_emulator
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, GA4_PROPERTY_ID

from .conftest import NOW, REPORT_URL

START, END = date(2026, 2, 16), date(2026, 3, 15)
RANGE = DateRange(start_date=START.isoformat(), end_date=END.isoformat())


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Ga4Emulator, str]]:
    emulator = build_emulator()
    emulator.controls.clock.set(NOW)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(emulator), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the emulator did not start"
        time.sleep(0.02)
    yield emulator, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _client(endpoint: str, credentials: object | None = None) -> BetaAnalyticsDataClient:
    return BetaAnalyticsDataClient(
        transport="rest",
        credentials=credentials or Credentials(DEMO_ACCESS_TOKEN),
        client_options={"api_endpoint": endpoint},
    )


@pytest.fixture(scope="module")
def client(served: tuple[Ga4Emulator, str]) -> BetaAnalyticsDataClient:
    return _client(served[1])


def test_the_connectors_report_with_filter_order_totals_and_quota(
    client: BetaAnalyticsDataClient, served: tuple[Ga4Emulator, str]
) -> None:
    emulator = served[0]
    wanted = ["Organic Search", "Direct"]
    channel_filter = FilterExpression(
        filter=Filter(
            field_name="sessionDefaultChannelGroup",
            in_list_filter=Filter.InListFilter(values=wanted, case_sensitive=False),
        )
    )
    response = client.run_report(
        RunReportRequest(
            property=GA4_PROPERTY_ID,
            date_ranges=[RANGE],
            dimensions=[Dimension(name="date"), Dimension(name="sessionDefaultChannelGroup")],
            metrics=[Metric(name="sessions"), Metric(name="screenPageViews")],
            dimension_filter=channel_filter,
            order_bys=[
                OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name="date")),
                OrderBy(
                    dimension=OrderBy.DimensionOrderBy(dimension_name="sessionDefaultChannelGroup")
                ),
            ],
            metric_aggregations=[MetricAggregation.TOTAL],
            keep_empty_rows=False,
            return_property_quota=True,
        )
    )
    expected: Counter[tuple[str, str]] = Counter()
    for s in emulator.data.sessions(START, END, NOW):
        if s.acquisition.channel in wanted:
            expected[(s.day.strftime("%Y%m%d"), s.acquisition.channel)] += 1
    got = {
        (r.dimension_values[0].value, r.dimension_values[1].value): int(r.metric_values[0].value)
        for r in response.rows
    }
    assert got == dict(expected)
    keys = [(r.dimension_values[0].value, r.dimension_values[1].value) for r in response.rows]
    assert keys == sorted(keys)
    assert response.metric_headers[0].type_ == MetricType.TYPE_INTEGER
    assert int(response.totals[0].metric_values[0].value) == sum(expected.values())
    assert response.row_count == len(expected)
    assert response.property_quota.tokens_per_day.consumed > 0
    assert response.metadata.time_zone == emulator.data.timezone


def test_pages_by_limit_and_offset_as_the_connector_reads_them(
    client: BetaAnalyticsDataClient,
) -> None:
    def page(**paging: int) -> list[tuple[str, ...]]:
        response = client.run_report(
            RunReportRequest(
                property=GA4_PROPERTY_ID,
                date_ranges=[RANGE],
                dimensions=[Dimension(name="date"), Dimension(name="deviceCategory")],
                metrics=[Metric(name="sessions")],
                order_bys=[OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name="date"))],
                **paging,
            )
        )
        assert response.row_count > 20
        return [tuple(v.value for v in r.dimension_values) for r in response.rows]

    every = page()
    assert page(limit=7, offset=0) + page(limit=7, offset=7) == every[:14]


def test_integer_enums_and_the_order_type_are_honoured(client: BetaAnalyticsDataClient) -> None:
    def campaigns(order_type: OrderBy.DimensionOrderBy.OrderType) -> list[str]:
        response = client.run_report(
            RunReportRequest(
                property=GA4_PROPERTY_ID,
                date_ranges=[RANGE],
                dimensions=[Dimension(name="sessionCampaignName")],
                metrics=[Metric(name="sessions")],
                order_bys=[
                    OrderBy(
                        dimension=OrderBy.DimensionOrderBy(
                            dimension_name="sessionCampaignName", order_type=order_type
                        )
                    )
                ],
            )
        )
        return [r.dimension_values[0].value for r in response.rows]

    exact = campaigns(OrderBy.DimensionOrderBy.OrderType.ALPHANUMERIC)
    folded = campaigns(OrderBy.DimensionOrderBy.OrderType.CASE_INSENSITIVE_ALPHANUMERIC)
    assert exact == sorted(exact)
    assert folded == sorted(folded, key=str.lower)
    assert exact != folded  # "Brand - ..." before "always_on..." only by code point


def test_batch_run_reports_answers_each_report(client: BetaAnalyticsDataClient) -> None:
    single = RunReportRequest(
        date_ranges=[RANGE],
        dimensions=[Dimension(name="deviceCategory")],
        metrics=[Metric(name="sessions")],
    )
    users = RunReportRequest(date_ranges=[RANGE], metrics=[Metric(name="totalUsers")])
    batch = client.batch_run_reports(
        BatchRunReportsRequest(property=GA4_PROPERTY_ID, requests=[single, users])
    )
    assert len(batch.reports) == 2
    alone = client.run_report(RunReportRequest(property=GA4_PROPERTY_ID, **_fields(single)))
    assert batch.reports[0].rows == alone.rows
    assert batch.reports[1].metric_headers[0].name == "totalUsers"


def _fields(request: RunReportRequest) -> dict[str, object]:
    return {
        "date_ranges": request.date_ranges,
        "dimensions": request.dimensions,
        "metrics": request.metrics,
    }


def test_get_metadata_and_check_compatibility(client: BetaAnalyticsDataClient) -> None:
    metadata = client.get_metadata(name=f"{GA4_PROPERTY_ID}/metadata")
    types = {m.api_name: m.type_ for m in metadata.metrics}
    assert types["sessions"] == MetricType.TYPE_INTEGER
    assert types["purchaseRevenue"] == MetricType.TYPE_CURRENCY
    assert "sessionDefaultChannelGroup" in {d.api_name for d in metadata.dimensions}

    answer = client.check_compatibility(
        CheckCompatibilityRequest(
            property=GA4_PROPERTY_ID,
            dimensions=[Dimension(name="eventName")],
            metrics=[Metric(name="sessions")],
        )
    )
    metrics = {c.metric_metadata.api_name: c.compatibility for c in answer.metric_compatibilities}
    dims = {
        c.dimension_metadata.api_name: c.compatibility for c in answer.dimension_compatibilities
    }
    assert metrics["eventCount"] == Compatibility.COMPATIBLE
    assert metrics["itemsViewed"] == Compatibility.INCOMPATIBLE  # item-scoped vs eventName
    assert dims["country"] == Compatibility.COMPATIBLE
    assert dims["itemName"] == Compatibility.INCOMPATIBLE  # item-scoped vs sessions

    only = client.check_compatibility(
        CheckCompatibilityRequest(
            property=GA4_PROPERTY_ID,
            dimensions=[Dimension(name="eventName")],
            metrics=[Metric(name="sessions")],
            compatibility_filter=Compatibility.INCOMPATIBLE,
        )
    )
    listed = [c.compatibility for c in only.metric_compatibilities]
    assert listed and set(listed) == {Compatibility.INCOMPATIBLE}


def test_realtime_report_of_the_last_30_minutes(
    client: BetaAnalyticsDataClient, served: tuple[Ga4Emulator, str]
) -> None:
    data = served[0].data
    local = data.local_now(NOW)
    minute = local.hour * 60 + local.minute
    recent = [
        s for s in data.sessions_of_day(local.date(), NOW) if 0 <= minute - s.start_minute <= 29
    ]
    assert recent  # mid-afternoon: someone is on the site
    response = client.run_realtime_report(
        RunRealtimeReportRequest(
            property=GA4_PROPERTY_ID,
            dimensions=[Dimension(name="deviceCategory")],
            metrics=[Metric(name="activeUsers"), Metric(name="eventCount")],
        )
    )
    got = {
        r.dimension_values[0].value: (int(r.metric_values[0].value), int(r.metric_values[1].value))
        for r in response.rows
    }
    expected = {
        device: (
            len({s.user.user_id for s in recent if s.device == device}),
            int(sum(s.value("eventCount") for s in recent if s.device == device)),
        )
        for device in {s.device for s in recent}
    }
    assert got == expected
    last_five = client.run_realtime_report(
        RunRealtimeReportRequest(
            property=GA4_PROPERTY_ID,
            metrics=[Metric(name="activeUsers")],
            minute_ranges=[MinuteRange(start_minutes_ago=4, end_minutes_ago=0)],
        )
    )
    few = {s.user.user_id for s in recent if minute - s.start_minute <= 4}
    assert sum(int(r.metric_values[0].value) for r in last_five.rows) == len(few)
    with pytest.raises(exceptions.BadRequest, match="startMinutesAgo"):
        client.run_realtime_report(
            RunRealtimeReportRequest(
                property=GA4_PROPERTY_ID,
                metrics=[Metric(name="activeUsers")],
                minute_ranges=[MinuteRange(start_minutes_ago=59)],
            )
        )


def test_a_thresholded_report_says_so_to_the_client(client: BetaAnalyticsDataClient) -> None:
    response = client.run_report(
        RunReportRequest(
            property=GA4_PROPERTY_ID,
            date_ranges=[DateRange(start_date="2026-03-10", end_date="2026-03-10")],
            dimensions=[Dimension(name="userAgeBracket")],
            metrics=[Metric(name="totalUsers")],
        )
    )
    assert response.metadata.subject_to_thresholding is True
    assert not response.metadata.sampling_metadatas


def test_errors_reach_the_client_as_google_exceptions(served: tuple[Ga4Emulator, str]) -> None:
    endpoint = served[1]
    request = RunReportRequest(
        property=GA4_PROPERTY_ID, date_ranges=[RANGE], metrics=[Metric(name="noSuchMetric")]
    )
    with pytest.raises(exceptions.BadRequest, match="noSuchMetric is not a valid metric"):
        _client(endpoint).run_report(request)
    # No token: 401 UNAUTHENTICATED, on which the client's session tries a refresh, as
    # against Google (anonymous credentials cannot be refreshed).
    with pytest.raises(auth_exceptions.InvalidOperation, match="cannot be refreshed"):
        _client(endpoint, AnonymousCredentials()).run_report(request)
    with pytest.raises(auth_exceptions.RefreshError):
        _client(endpoint, Credentials("not-a-sandbox-token")).run_report(request)
    with pytest.raises(exceptions.Forbidden):
        _client(endpoint).run_report(
            RunReportRequest(
                property="properties/999", date_ranges=[RANGE], metrics=[Metric(name="sessions")]
            )
        )


async def test_unknown_fields_and_enum_values_are_refused_as_google_does(
    api: httpx.AsyncClient,
) -> None:
    base = {"dateRanges": [{"startDate": "2026-03-01", "endDate": "2026-03-02"}]}
    response = await api.post(
        REPORT_URL, json={**base, "metrics": [{"name": "sessions"}], "bogus": 1}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    message = 'Invalid JSON payload received. Unknown name "bogus": Cannot find field.'
    assert error["status"] == "INVALID_ARGUMENT" and error["message"] == message
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"description": message}],
        }
    ]
    nested = await api.post(
        REPORT_URL, json={**base, "metrics": [{"name": "sessions", "alias": "s"}]}
    )
    assert nested.json()["error"]["message"] == (
        "Invalid JSON payload received. Unknown name \"alias\" at 'metrics[0]': Cannot find field."
    )
    bad_enum = await api.post(
        REPORT_URL,
        json={**base, "metrics": [{"name": "sessions"}], "metricAggregations": [9]},
    )
    assert bad_enum.status_code == 400
    assert "metric_aggregations[0]" in bad_enum.json()["error"]["message"]
    # Proto field names are accepted as well as their JSON names.
    snake = await api.post(
        REPORT_URL,
        json={"date_ranges": base["dateRanges"], "metrics": [{"name": "sessions"}]},
    )
    assert snake.status_code == 200, snake.text


async def test_enums_are_answered_as_numbers_when_the_client_asks(api: httpx.AsyncClient) -> None:
    body = {
        "dateRanges": [{"startDate": "2026-03-01", "endDate": "2026-03-02"}],
        "metrics": [{"name": "sessions"}, {"name": "purchaseRevenue"}],
    }
    named = (await api.post(REPORT_URL, json=body)).json()
    assert [h["type"] for h in named["metricHeaders"]] == ["TYPE_INTEGER", "TYPE_CURRENCY"]
    numbered = await api.post(REPORT_URL, json=body, params={"$alt": "json;enum-encoding=int"})
    assert [h["type"] for h in numbered.json()["metricHeaders"]] == [1, 9]


def test_the_connectors_shared_reports_read_by_the_official_client(
    client: BetaAnalyticsDataClient,
) -> None:
    """What our connector sends for a dashboard (several date ranges per report, five
    reports a batch, returnPropertyQuota) is a BatchRunReportsRequest the official client
    builds from JSON, and its answer parses: date_range_<i> rows, each report's quota."""
    before = DateRange(start_date="2026-01-18", end_date="2026-02-15")
    ranges = [{"startDate": r.start_date, "endDate": r.end_date} for r in (RANGE, before)]

    def report(dims: list[str], metrics: list[str]) -> dict[str, object]:
        return {
            "dateRanges": ranges,
            "dimensions": [{"name": d} for d in dims],
            "metrics": [{"name": m} for m in metrics],
            "orderBys": [{"dimension": {"dimensionName": d}} for d in dims],
            "keepEmptyRows": False,
            "returnPropertyQuota": True,
            "limit": 100000,
        }

    bodies = [
        report([], ["totalUsers", "activeUsers"]),
        report(["country"], ["totalUsers", "activeUsers", "totalPurchasers", "cartToViewRate"]),
        report(["date"], ["sessions", "engagedSessions"]),
    ]
    request = BatchRunReportsRequest.from_json(
        json.dumps({"property": GA4_PROPERTY_ID, "requests": bodies})
    )
    batch = client.batch_run_reports(request)
    assert len(batch.reports) == 3
    for answer in batch.reports:
        assert answer.dimension_headers[-1].name == "dateRange"
        assert {row.dimension_values[-1].value for row in answer.rows} == {
            "date_range_0",
            "date_range_1",
        }
        assert answer.property_quota.tokens_per_day.consumed > 0
        assert answer.property_quota.concurrent_requests.remaining > 0
    # Each range's users are that range's own figure: the same as a report of it alone.
    alone = client.run_report(
        RunReportRequest(
            property=GA4_PROPERTY_ID,
            date_ranges=[before],
            metrics=[Metric(name="totalUsers"), Metric(name="activeUsers")],
        )
    )
    (second,) = [r for r in batch.reports[0].rows if r.dimension_values[0].value == "date_range_1"]
    assert [v.value for v in second.metric_values] == [v.value for v in alone.rows[0].metric_values]


def test_a_batch_report_of_another_property_is_refused(client: BetaAnalyticsDataClient) -> None:
    foreign = RunReportRequest(
        property="properties/999", date_ranges=[RANGE], metrics=[Metric(name="sessions")]
    )
    with pytest.raises(exceptions.BadRequest, match="batch's property"):
        client.batch_run_reports(
            BatchRunReportsRequest(property=GA4_PROPERTY_ID, requests=[foreign])
        )
