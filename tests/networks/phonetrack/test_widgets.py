"""Every predefined PhoneTrack widget through POST /metrics/get-data on an integration
connected to the emulator, and figures computed independently from the emulator's raw
call log: counts by the call's start day in São Paulo, each rate from its parts, unique
callers over the exact period (not a sum of rows), average duration, the daily average
per unit; a call returned and one deleted after a sync (the restated days)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.networks.phonetrack.emulator.data import PhoneTrackData
from metrics_connect.networks.phonetrack.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import (
    Periods,
    numbered,
    reference_widget,
    reference_widgets,
    widget_errors,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PERIODS = Periods(date(2026, 11, 19))
CURRENT = (PERIODS.start, PERIODS.end)
PREVIOUS = (PERIODS.comparison_start, PERIODS.comparison_end)
Call = dict[str, Any]


def widget(key: str) -> dict[str, Any]:
    return reference_widget("phonetrack", key)


@dataclass
class Connected(ConnectedNetwork):
    data: PhoneTrackData

    def calls(self, span: tuple[date, date] = CURRENT) -> list[Call]:
        """The live calls that started on the span's days (wall dates in the log's zone)."""
        first, last = span[0].isoformat(), span[1].isoformat()
        return [
            fields
            for record, fields in self.data.history(self.clock.current)
            if not record.archived(self.clock.current)
            and first <= fields["date_start_tz"]["date"][:10] <= last
        ]


@pytest.fixture(scope="module")
def built() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
async def pt(
    built: SandboxNetwork, sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, phonetrack_api_base_url="http://phonetrack.test")
    with frozen_clock(built, NOW) as shared:
        async with connected_network(
            Connected, "phonetrack", built, shared, settings, PERIODS
        ) as pt:
            yield pt


async def test_every_predefined_widget_answers_with_a_comparison(pt: Connected) -> None:
    widgets = numbered(reference_widgets("phonetrack"))
    assert len(widgets) == 22
    result = await pt.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, [], 0), w["reference_key"]
        assert "comparison" in body, w["reference_key"]
        if w["component"] == "number_v1":
            assert body["comparison"]["values"] not in (None, 0), w["reference_key"]


def rate(part: int, whole: int) -> float:
    return 100 * part / whole


async def test_counts_and_rates_from_the_raw_calls(pt: Connected) -> None:
    keys = (
        "calls",
        "answered_calls",
        "lost_calls",
        "incomplete_calls",
        "opportunity_calls",
        "returned_calls",
        "unique_calls",
        "lost_calls_rate",
        "opportunity_calls_rate",
        "returned_calls_rate",
        "average_call_duration",
    )
    result = await pt.get_data([widget(f"phonetrack:{k}") for k in keys])
    for span, values in (
        (CURRENT, lambda k: result[f"phonetrack:{k}"]["values"]),
        (PREVIOUS, lambda k: result[f"phonetrack:{k}"]["comparison"]["values"]),
    ):
        calls = pt.calls(span)
        answered = [c for c in calls if c["failed"] == 0]
        lost = [c for c in calls if c["failed"] == 1]
        opportunities = sum(1 for c in answered if c["call_metadata"]["plead"])
        returned = sum(c["returned"] for c in lost)
        assert values("calls") == len(calls) > 500
        assert values("answered_calls") == len(answered)
        assert values("lost_calls") == len(lost)
        assert values("incomplete_calls") == sum(c["call_metadata"]["is_incomplete"] for c in calls)
        assert values("opportunity_calls") == opportunities > 0
        assert values("returned_calls") == returned > 0
        callers = {c["origin_number"] for c in calls}
        assert values("unique_calls") == len(callers) < len(calls)
        assert values("lost_calls_rate") == pytest.approx(rate(len(lost), len(calls)), abs=1e-3)
        assert values("opportunity_calls_rate") == pytest.approx(
            rate(opportunities, len(calls)), abs=1e-3
        )
        assert values("returned_calls_rate") == pytest.approx(rate(returned, len(lost)), abs=1e-3)
        seconds = sum(c["duration"] for c in answered)
        assert values("average_call_duration") == pytest.approx(seconds / len(answered), abs=1e-3)


async def test_tables_and_charts_by_unit_campaign_and_day(pt: Connected) -> None:
    keys = (
        "phonetrack:featured_units",
        "phonetrack:featured_campaigns",
        "phonetrack:calls_days_units",
        "phonetrack:first_calls_chart",
        "phonetrack:calls_over_time",
        "phonetrack:campaigns",
    )
    result = await pt.get_data([widget(k) for k in keys], comparison=False)
    calls = pt.calls()
    units = result["phonetrack:featured_units"]
    assert units["headers"][0] == "Units"
    rows = {row[0]: row[1:] for row in units["values"]}
    for name in {c["client_name"] for c in calls}:
        mine = [c for c in calls if c["client_name"] == name]
        first_calls = sum(c["first_call_consumer"] for c in mine)
        assert rows[name][0] == len(mine)
        assert rows[name][5] == len({c["origin_number"] for c in mine})
        assert rows[name][6] == first_calls
    total = rows["Total"]
    assert total[0] == len(calls)
    # Unique callers of the whole period: callers of two units count once.
    assert (
        total[5]
        == len({c["origin_number"] for c in calls})
        < sum(row[5] for name, row in rows.items() if name != "Total")
    )
    campaigns = {row[0]: row[1] for row in result["phonetrack:featured_campaigns"]["values"]}
    for name in {c["campaign_name"] for c in calls}:
        assert campaigns[name] == sum(1 for c in calls if c["campaign_name"] == name)
    daily = result["phonetrack:calls_days_units"]
    averages = dict(zip(daily["labels"], daily["values"][0]["data"], strict=True))
    for name, average in averages.items():
        mine = sum(1 for c in calls if c["client_name"] == name)
        assert average == pytest.approx(mine / PERIODS.days, abs=1e-3)
    pie = result["phonetrack:first_calls_chart"]
    slices = dict(zip(pie["labels"], pie["values"][0]["data"], strict=True))
    first = sum(c["first_call_consumer"] for c in calls)
    assert slices == {"First call": first, "Repeat call": len(calls) - first}
    line = result["phonetrack:calls_over_time"]
    assert len(line["labels"]) == PERIODS.days and line["labels"][0] == PERIODS.start.isoformat()
    day = line["labels"][10]
    assert line["values"][0]["data"][10] == sum(
        1 for c in calls if c["date_start_tz"]["date"][:10] == day
    )
    assert sum(line["values"][0]["data"]) == len(calls)
    container = result["phonetrack:campaigns"]
    assert "error" not in container and container["values"]


async def test_a_returned_and_a_deleted_call_after_a_sync(pt: Connected) -> None:
    keys = ("phonetrack:calls", "phonetrack:returned_calls")
    first = await pt.get_data([widget(k) for k in keys], comparison=False)
    recent = [
        (record, fields)
        for record, fields in pt.data.history(NOW)
        if not record.archived(NOW)
        and record.archived_at is None
        and fields["date_start_tz"]["date"][:10] == (PERIODS.end - timedelta(days=2)).isoformat()
    ]
    lost = next(
        r for r, f in recent if f["failed"] == 1 and not f["returned"] and r.changes[-1][0] < NOW
    )
    doomed = next(r for r, f in recent if r is not lost)
    back = NOW + timedelta(hours=1)
    lost.change(back, {"returned": 1, "date_returned_tz": pt.data.local(back)})
    doomed.archived_at = back
    pt.data.forget()
    try:
        pt.clock.set(NOW + timedelta(hours=2))
        second = await pt.get_data([widget(k) for k in keys], comparison=False)
    finally:
        lost.changes.pop()
        lost._timeline = None
        doomed.archived_at = None
        pt.data.forget()
    assert second["phonetrack:calls"]["values"] == first["phonetrack:calls"]["values"] - 1
    returned = first["phonetrack:returned_calls"]["values"] + 1
    assert second["phonetrack:returned_calls"]["values"] == returned


@pytest.mark.parametrize(
    ("fault", "code"),
    [("rate_limit", "upstream_rate_limited"), ("expired", "integration_expired")],
)
async def test_a_failed_first_sync_fails_the_widgets_with_its_error(
    pt: Connected, fault: str, code: str
) -> None:
    switches = pt.clock.sandbox.controls.switches
    if fault == "rate_limit":
        switches.rate_limit_next, switches.retry_after_seconds = 10_000, 3600
    else:
        switches.expired_tokens.add(DEMO_ACCESS_TOKEN)
    try:
        result = await pt.get_data([widget("phonetrack:calls")], comparison=False)
    finally:
        switches.rate_limit_next, switches.retry_after_seconds = 0, 1
        switches.expired_tokens.clear()
    assert result["phonetrack:calls"]["error"]["code"] == code
