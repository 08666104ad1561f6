"""Every predefined GA4 widget through POST /metrics/get-data on an integration connected
to the emulator, and figures checked against the emulator's raw sessions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.google_analytics_4.emulator.app import Ga4Emulator
from metrics_connect.networks.google_analytics_4.emulator.data import PropertyData, Session
from metrics_connect.networks.google_analytics_4.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving

REFERENCE = Path("/work/shared/reference/reportei-connect/google_analytics_4/metrics.json")
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 12:00 in Sao Paulo
END = date(2026, 11, 19)
START = END - timedelta(days=89)
COMPARISON_END = START - timedelta(days=1)
COMPARISON_START = COMPARISON_END - timedelta(days=89)


def reference_widgets() -> list[dict[str, Any]]:
    if not REFERENCE.exists():
        pytest.skip("the shared reference payloads are not on this machine")
    widgets: list[dict[str, Any]] = json.loads(REFERENCE.read_text())["metrics"]
    return widgets


@dataclass
class Ga4Connected:
    client: httpx.AsyncClient
    headers: dict[str, str]
    integration_uuid: str
    emulator: Ga4Emulator

    async def get_data(self, widgets: list[dict[str, Any]], comparison: bool = True) -> Any:
        body: dict[str, Any] = {
            "customer_integration": self.integration_uuid,
            "start": START.isoformat(),
            "end": END.isoformat(),
            "metrics": widgets,
        }
        if comparison:
            body["comparison_start"] = COMPARISON_START.isoformat()
            body["comparison_end"] = COMPARISON_END.isoformat()
        response = await self.client.post("/metrics/get-data", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def sessions(self, start: date = START, end: date = END) -> list[Session]:
        return self.emulator.data.sessions(start, end, NOW)


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    built = build_sandbox()
    # The demo property's generator at a smaller volume: the same semantics, faster tests.
    built.emulator.data = PropertyData(base_sessions=15)  # type: ignore[attr-defined]
    return built


@pytest.fixture
def frozen(network: SandboxNetwork) -> Iterator[None]:
    network.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture
async def ga4(
    network: SandboxNetwork,
    frozen: None,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Ga4Connected]:
    settings = settings_factory(
        sqlite_url,
        google_analytics_4_api_base_url="http://ga4.test",
        # Generous on a loaded CI machine; the emulator computes every report in Python.
        request_time_budget_seconds=240.0,
    )
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["google_analytics_4"] = httpx.ASGITransport(app=network.app)
    app = create_app(runtime=runtime)
    async with serving(app) as client:
        account = await connect_account(runtime, "google_analytics_4", network.demo_account)
        yield Ga4Connected(
            client,
            account.headers,
            account.integration_uuid,
            network.emulator,
        )


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    for item in reference_widgets():
        if item["reference_key"] == reference_key:
            return {"id": reference_key, **item, **overrides}
    raise KeyError(reference_key)


# Every predefined widget over 90 days with a comparison, and the calls it takes:
# test_call_economy.py (one cold run of the whole dashboard serves both).


async def test_period_users_are_the_emulators_period_figure(ga4: Ga4Connected) -> None:
    result = await ga4.get_data(
        [widget("google_analytics_4:all_users"), widget("google_analytics_4:users_over_time")]
    )
    sessions = ga4.sessions()
    period_users = len({s.user.user_id for s in sessions if s.active})
    users = result["google_analytics_4:all_users"]
    assert users["values"] == period_users
    before = ga4.sessions(COMPARISON_START, COMPARISON_END)
    assert users["comparison"]["values"] == len({s.user.user_id for s in before if s.active})

    chart = result["google_analytics_4:users_over_time"]
    assert chart["labels"][0] == START.isoformat() and len(chart["labels"]) == 90
    daily = chart["values"][0]["data"]
    by_day = {
        d: {s.user.user_id for s in sessions if s.day == d} for d in {s.day for s in sessions}
    }
    assert daily == [len(by_day[START + timedelta(days=i)]) for i in range(90)]
    # Not a sum of days: each returning user counts once in the period.
    assert sum(daily) > users["values"] * 1.2


async def test_calculated_metrics_come_from_summed_parts(ga4: Ga4Connected) -> None:
    result = await ga4.get_data(
        [
            widget("google_analytics_4:engagement_rate"),
            widget("google_analytics_4:bounce_rate"),
            widget("google_analytics_4:pageview_session"),
            widget("google_analytics_4:average_engagement_time"),
            widget("google_analytics_4:conversion_rate"),
            widget("google_analytics_4:abandoned_carts"),
        ],
        comparison=False,
    )
    sessions = ga4.sessions()
    engaged = sum(1 for s in sessions if s.engaged)
    views = sum(s.value("screenPageViews") for s in sessions)
    engagement = sum(s.value("userEngagementDuration") for s in sessions)
    active = len({s.user.user_id for s in sessions if s.active})
    purchases = sum(s.value("transactions") for s in sessions)
    checkouts = sum(s.value("checkouts") for s in sessions)
    assert result["google_analytics_4:engagement_rate"]["values"] == pytest.approx(
        100 * engaged / len(sessions), abs=1e-4
    )
    assert result["google_analytics_4:bounce_rate"]["values"] == pytest.approx(
        100 * (1 - engaged / len(sessions)), abs=1e-4
    )
    assert result["google_analytics_4:pageview_session"]["values"] == pytest.approx(
        views / len(sessions), abs=1e-4
    )
    assert result["google_analytics_4:average_engagement_time"]["values"] == pytest.approx(
        engagement / active, abs=1e-4
    )
    assert result["google_analytics_4:conversion_rate"]["values"] == pytest.approx(
        100 * purchases / len(sessions), abs=1e-4
    )
    assert result["google_analytics_4:abandoned_carts"]["values"] == checkouts - purchases


async def test_users_by_country_are_unique_per_country(ga4: Ga4Connected) -> None:
    result = await ga4.get_data([widget("google_analytics_4:countries")], comparison=False)
    table = result["google_analytics_4:countries"]
    assert table["headers"] == ["Country", "Engaged sessions", "Users"]
    sessions = ga4.sessions()
    rows = {row[0]: row[1:] for row in table["values"] if row[0] != "Total"}
    for country, (engaged, users) in rows.items():
        mine = [s for s in sessions if s.user.country == country]
        assert engaged == sum(1 for s in mine if s.engaged)
        assert users == len({s.user.user_id for s in mine if s.active})
    engaged_order = [r[0] for r in list(rows.values())]
    assert engaged_order == sorted(engaged_order, reverse=True)


async def test_conversion_tables_list_key_events_with_their_users(ga4: Ga4Connected) -> None:
    result = await ga4.get_data([widget("google_analytics_4:top_conversions")], comparison=False)
    table = result["google_analytics_4:top_conversions"]
    rows = {row[0]: row[1:] for row in table["values"] if row[0] != "Total"}
    assert set(rows) == {"purchase", "generate_lead"}
    sessions = ga4.sessions()
    for event, (conversions, users, value) in rows.items():
        hits = [(s, h) for s in sessions for h in s.hits if h.event_name == event]
        assert conversions == sum(h.values["keyEvents"] for _, h in hits)
        assert users == len({s.user.user_id for s, _ in hits})
        assert value == pytest.approx(sum(h.values.get("eventValue", 0) for _, h in hits), abs=0.01)


async def test_table_totals_of_unique_users_are_the_whole_period_figure(ga4: Ga4Connected) -> None:
    result = await ga4.get_data(
        [widget("google_analytics_4:countries"), widget("google_analytics_4:top_events")],
        comparison=False,
    )
    sessions = ga4.sessions()
    countries = result["google_analytics_4:countries"]["values"]
    assert countries[-1][0] == "Total"
    # Users of the whole period, once each: less than the sum of the rows' users.
    assert countries[-1][2] == len({s.user.user_id for s in sessions if s.active})
    assert countries[-1][1] == sum(1 for s in sessions if s.engaged)
    events = result["google_analytics_4:top_events"]["values"]
    total_users = len({s.user.user_id for s in sessions})
    assert events[-1][0] == "Total" and events[-1][2] == total_users
    assert sum(row[2] for row in events[:-1]) > total_users
    # eventCountPerUser's Total: all events over the period's active users.
    all_events = sum(s.value("eventCount") for s in sessions)
    active = len({s.user.user_id for s in sessions if s.active})
    assert events[-1][3] == pytest.approx(all_events / active, abs=1e-3)


async def test_a_sort_naming_a_dimension_orders_by_its_values(ga4: Ga4Connected) -> None:
    result = await ga4.get_data([widget("google_analytics_4:age")], comparison=False)
    labels = result["google_analytics_4:age"]["labels"]
    assert labels == ["18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown"]


async def test_users_of_several_channels_are_counted_once(ga4: Ga4Connected) -> None:
    """A filter selecting several values of a breakdown: the users who came through any of
    them, each once (GA4 counts them with the filter applied), not a sum per channel."""
    wanted = ["Organic Search", "Direct"]
    both = {"field": "sessionDefaultChannelGroup", "operator": "IN", "value": wanted}
    result = await ga4.get_data(
        [
            {"id": "two", "reference_key": "x", "component": "number_v1"}
            | {"metrics": ["activeUsers"], "dimensions": [both]},
            {"id": "sessions", "reference_key": "y", "component": "number_v1"}
            | {"metrics": ["sessions"], "dimensions": [both]},
        ],
        comparison=False,
    )
    mine = [s for s in ga4.sessions() if s.acquisition.channel in wanted]
    users = {s.user.user_id for s in mine if s.active}
    per_channel = sum(
        len({s.user.user_id for s in mine if s.active and s.acquisition.channel == c})
        for c in wanted
    )
    assert per_channel > len(users)  # the case matters: some users came both ways
    assert result["two"]["values"] == len(users)
    assert result["sessions"]["values"] == len(mine)


async def test_a_thresholded_report_is_flagged_on_its_widget(ga4: Ga4Connected) -> None:
    """GA4 thresholds users by age (subjectToThresholding): the widget says so; a widget
    of exact figures keeps its body without notes."""
    result = await ga4.get_data(
        [widget("google_analytics_4:age"), widget("google_analytics_4:all_users")],
        comparison=False,
    )
    age = result["google_analytics_4:age"]
    assert age["approximate"] is True
    assert age["notes"] == ["thresholded"]
    assert set(result["google_analytics_4:all_users"]) == {"values", "comparison"}
