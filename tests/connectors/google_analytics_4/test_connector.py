"""The GA4 connector against the emulator: rows checked against the raw sessions."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import httpx
import pytest

from metrics_connect.connectors.base import (
    FetchRequest,
    Filter,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
)
from metrics_connect.networks.google_analytics_4.connector.hooks import (
    STREAMS,
    GoogleAnalytics4Connector,
)
from metrics_connect.networks.google_analytics_4.emulator.app import Ga4Emulator

from .conftest import NOW, REFRESHABLE

START, END = date(2026, 2, 16), date(2026, 3, 15)
TODAY = date(2026, 3, 18)


async def test_daily_traffic_by_channel_equals_raw_sums(
    connector: GoogleAnalytics4Connector, emulator: Ga4Emulator
) -> None:
    result = await connector.fetch(
        FetchRequest("traffic", START, END, breakdowns=("sessionDefaultChannelGroup",))
    )
    expected: dict[tuple[date, str], Counter[str]] = defaultdict(Counter)
    for s in emulator.data.sessions(START, END, NOW):
        acc = expected[(s.day, s.acquisition.channel)]
        acc["sessions"] += 1
        acc["engagedSessions"] += s.engaged
        acc["screenPageViews"] += int(s.value("screenPageViews"))
    got = {(r.day, r.keys["sessionDefaultChannelGroup"]): r.values for r in result.rows}
    assert set(got) == set(expected)
    for key, acc in expected.items():
        for name, value in acc.items():
            assert got[key][name] == value, (key, name)
    assert all(isinstance(r.values["sessions"], int) for r in result.rows)
    assert not result.incomplete_days


async def test_period_users_are_the_property_figure_not_a_sum_of_days(
    connector: GoogleAnalytics4Connector, emulator: Ga4Emulator
) -> None:
    period = await connector.fetch(FetchRequest("users", START, END))
    assert len(period.rows) == 1 and period.rows[0].day is None
    sessions = emulator.data.sessions(START, END, NOW)
    assert period.rows[0].values["totalUsers"] == len({s.user.user_id for s in sessions})
    assert period.rows[0].values["activeUsers"] == len(
        {s.user.user_id for s in sessions if s.active}
    )
    daily = await connector.fetch(FetchRequest("users_daily", START, END))
    assert len(daily.rows) == 28
    assert sum(int(r.values["totalUsers"] or 0) for r in daily.rows) > int(
        period.rows[0].values["totalUsers"] or 0
    )


async def test_pages_follow_limit_and_offset(
    connector: GoogleAnalytics4Connector, emulator: Ga4Emulator
) -> None:
    whole = await connector.fetch(FetchRequest("traffic", START, END, breakdowns=("country",)))
    emulator.controls.calls.reset()
    connector.client.page_size = 40
    paged = await connector.fetch(FetchRequest("traffic", START, END, breakdowns=("country",)))
    assert len(whole.rows) > 80
    assert emulator.controls.calls.by_endpoint["runReport"] == -(-len(whole.rows) // 40)
    assert [(r.day, r.keys, r.values) for r in paged.rows] == [
        (r.day, r.keys, r.values) for r in whole.rows
    ]


async def test_filters_are_pushed_down(
    connector: GoogleAnalytics4Connector, emulator: Ga4Emulator
) -> None:
    wanted = ["Email", "Paid Search"]
    result = await connector.fetch(
        FetchRequest(
            "users",
            START,
            END,
            breakdowns=("sessionDefaultChannelGroup",),
            filters=(Filter("sessionDefaultChannelGroup", "IN", wanted),),
        )
    )
    sessions = emulator.data.sessions(START, END, NOW)
    got = {r.keys["sessionDefaultChannelGroup"]: r.values["totalUsers"] for r in result.rows}
    assert got == {
        channel: len({s.user.user_id for s in sessions if s.acquisition.channel == channel})
        for channel in wanted
    }
    others = await connector.fetch(
        FetchRequest(
            "traffic",
            START,
            END,
            filters=(
                Filter("sessionDefaultChannelGroup", "NOT_IN", wanted),
                Filter("deviceCategory", "EQUAL", "mobile"),
            ),
        )
    )
    assert sum(int(r.values["sessions"] or 0) for r in others.rows) == sum(
        1 for s in sessions if s.acquisition.channel not in wanted and s.device == "mobile"
    )
    plan = connector.plan_calls(
        FetchRequest("traffic", START, END, filters=(Filter("country", "EQUAL", "Brazil"),))
    )
    assert plan[0].path == "/v1beta/properties/300000001:runReport"
    assert "Brazil" in plan[0].params["dimensionFilter"]


async def test_derived_abandoned_carts_and_items(connector: GoogleAnalytics4Connector) -> None:
    ecommerce = await connector.fetch(FetchRequest("ecommerce", START, END))
    for row in ecommerce.rows:
        assert row.values["abandonedCarts"] == (
            int(row.values["checkouts"] or 0) - int(row.values["ecommercePurchases"] or 0)
        )
    items = await connector.fetch(FetchRequest("items", START, END, breakdowns=("itemName",)))
    assert {r.keys["itemName"] for r in items.rows} >= {"Hand Grinder", "V60 Dripper"}
    purchases = sum(int(r.values["ecommercePurchases"] or 0) for r in ecommerce.rows)
    assert purchases > 0


async def test_today_and_late_search_console_days_are_incomplete(
    connector: GoogleAnalytics4Connector,
) -> None:
    traffic = await connector.fetch(FetchRequest("traffic", TODAY - timedelta(days=3), TODAY))
    assert traffic.incomplete_days == {TODAY}
    search = await connector.fetch(FetchRequest("organic_search", TODAY - timedelta(days=5), TODAY))
    assert search.incomplete_days == {TODAY, TODAY - timedelta(days=1)}
    assert {r.day for r in search.rows} == {TODAY - timedelta(days=i) for i in range(2, 6)}


async def test_quota_bursts_are_backed_off(
    connector: GoogleAnalytics4Connector, emulator: Ga4Emulator
) -> None:
    emulator.controls.switches.rate_limit_next = 3
    result = await connector.fetch(FetchRequest("traffic", START, START))
    assert result.rows
    assert emulator.controls.calls.by_endpoint["runReport"] == 4


async def test_persistent_rate_limit_gives_up_within_the_budget(
    make_connector: Callable[..., GoogleAnalytics4Connector], emulator: Ga4Emulator
) -> None:
    connector = make_connector(budget=1.0)
    emulator.controls.switches.rate_limit_ratio = 1.0
    began = time.monotonic()
    with pytest.raises(UpstreamRateLimited) as raised:
        await connector.fetch(FetchRequest("traffic", START, START))
    assert time.monotonic() - began < 3.0
    assert raised.value.upstream_code == "RESOURCE_EXHAUSTED"
    assert emulator.controls.calls.by_endpoint["runReport"] > 1


async def test_exhausted_token_bucket_is_not_retried(
    connector: GoogleAnalytics4Connector, emulator: Ga4Emulator
) -> None:
    emulator.property_quota.buckets["tokensPerHour"].limit = 1
    await connector.fetch(FetchRequest("traffic", START, START))
    emulator.controls.calls.reset()
    with pytest.raises(UpstreamRateLimited) as raised:
        await connector.fetch(FetchRequest("traffic", START, START))
    assert emulator.controls.calls.by_endpoint["runReport"] == 1
    # 15:30 local: the hourly bucket renews in 30 minutes.
    assert raised.value.retry_after == pytest.approx(1800, abs=1)


async def test_server_errors_are_retried(
    connector: GoogleAnalytics4Connector, emulator: Ga4Emulator
) -> None:
    emulator.controls.switches.server_error_ratio = 0.5
    result = await connector.fetch(FetchRequest("traffic", START, START + timedelta(days=2)))
    assert len(result.rows) == 3


async def test_error_classification(
    make_connector: Callable[..., GoogleAnalytics4Connector], emulator: Ga4Emulator
) -> None:
    emulator.controls.switches.expired_tokens.add("sandbox-stale")
    with pytest.raises(IntegrationExpired):
        await make_connector({"access_token": "sandbox-stale"}).fetch(
            FetchRequest("traffic", START, START)
        )
    # With a refresh token but no token endpoint answering: still expired.
    with pytest.raises(IntegrationExpired):
        await make_connector(dict(REFRESHABLE)).fetch(FetchRequest("traffic", START, START))
    emulator.controls.switches.revoked_tokens.add("sandbox-revoked")
    with pytest.raises(IntegrationRevoked):
        await make_connector({"access_token": "sandbox-revoked"}).fetch(
            FetchRequest("traffic", START, START)
        )
    with pytest.raises(UpstreamError) as invalid:
        await make_connector().fetch(
            FetchRequest("traffic", START, START, filters=(Filter("notADimension", "EQUAL", "x"),))
        )
    assert type(invalid.value) is UpstreamError
    assert invalid.value.upstream_code == "INVALID_ARGUMENT"
    assert "notADimension" in invalid.value.message


async def test_account_info_reads_the_report_metadata(
    connector: GoogleAnalytics4Connector,
) -> None:
    info = await connector.account_info()
    assert (info.timezone, info.currency) == ("America/Sao_Paulo", "BRL")


def test_every_dataset_fits_one_report() -> None:
    for stream in STREAMS.datasets.values():
        assert len(stream.asked_fields) <= 10
        assert len(stream.breakdowns) >= 1
        assert set(stream.fields) >= set(stream.asked_fields)


class HostRouter(httpx.AsyncBaseTransport):
    """Routes by host: the OAuth/Admin emulator and the Data API emulator side by side."""

    def __init__(self, routes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.routes = routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[request.url.host].handle_async_request(request)


async def test_expired_token_is_refreshed_and_admin_api_names_the_property(
    emulator: Ga4Emulator,
) -> None:
    from metrics_connect.connectors.base import ConnectorContext
    from metrics_connect.networks.google_analytics_4.emulator.app import create_app
    from metrics_connect.sandbox.accounts import DEMO_REFRESH_TOKEN, GA4_PROPERTY_ID
    from metrics_connect.sandbox.oauth import build_google_oauth, oauth_settings_overrides
    from metrics_connect.settings import Settings

    oauth = build_google_oauth()
    emulator.controls.switches.expired_tokens.add("sandbox-stale")
    router = HostRouter(
        {
            "analyticsdata.test": httpx.ASGITransport(app=create_app(emulator)),
            "google.test": httpx.ASGITransport(app=oauth.app),
        }
    )
    async with httpx.AsyncClient(transport=router) as http:
        credentials = {"access_token": "sandbox-stale", "refresh_token": DEMO_REFRESH_TOKEN}
        connector = GoogleAnalytics4Connector(
            ConnectorContext(
                integration_uuid="ga4-refresh",
                external_id=GA4_PROPERTY_ID,
                credentials=credentials,
                timezone="America/Sao_Paulo",
                http=http,
                base_url="http://analyticsdata.test",
                settings=Settings(**oauth_settings_overrides({"google": "http://google.test"})),
            )
        )
        result = await connector.fetch(FetchRequest("traffic", START, START))
        assert result.rows
        assert credentials["access_token"] != "sandbox-stale"
        assert oauth.server.controls.calls.by_endpoint["token"] == 1
        info = await connector.account_info()
        assert (info.name, info.timezone, info.currency) == (
            "Acme Coffee - Web",
            "America/Sao_Paulo",
            "BRL",
        )


async def test_thresholded_sampled_and_other_row_reports_become_notes(
    connector: GoogleAnalytics4Connector, emulator: Ga4Emulator
) -> None:
    exact = await connector.fetch(FetchRequest("users", START, END, breakdowns=("country",)))
    assert exact.notes == set()
    by_age = await connector.fetch(
        FetchRequest(
            "users",
            TODAY - timedelta(days=8),
            TODAY - timedelta(days=8),
            breakdowns=("userAgeBracket",),
        )
    )
    assert by_age.notes == {"thresholded"}
    fidelity = emulator.data.fidelity
    emulator.data.fidelity = replace(
        fidelity,
        sampling=replace(fidelity.sampling, max_events=100),
        other_row=replace(fidelity.other_row, max_rows_per_day=2),
    )
    folded = await connector.fetch(FetchRequest("traffic", START, START, breakdowns=("city",)))
    assert folded.notes == {"sampled", "other_row"}
    assert any(r.keys["city"] == "(other)" for r in folded.rows)
