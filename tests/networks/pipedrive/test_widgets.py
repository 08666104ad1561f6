"""Every predefined Pipedrive widget through POST /metrics/get-data on an integration
connected to the emulator, and figures computed independently from the emulator's raw
deals, leads and activities: won and lost by their own times, values, the funnel,
activities done and planned; a deal edited or deleted and a lead deleted after a sync
counted with their latest values or gone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from metrics_connect.engine.records import parse_instant
from metrics_connect.networks.pipedrive.emulator.data import PipedriveData
from metrics_connect.networks.pipedrive.emulator.network import build_sandbox
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
ZONE = ZoneInfo("America/New_York")
PERIODS = Periods(date(2026, 11, 19))
Fields = dict[str, Any]


def widget(key: str) -> dict[str, Any]:
    return reference_widget("pipedrive", key)


@dataclass
class Connected(ConnectedNetwork):
    data: PipedriveData

    def live(self, name: str) -> list[Fields]:
        return [f for _, f in self.data.live(name, self.clock.current)]


def in_period(value: Any, start: date = PERIODS.start, end: date = PERIODS.end) -> bool:
    instant = parse_instant(value)
    return instant is not None and start <= instant.astimezone(ZONE).date() <= end


@pytest.fixture
async def pd(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, pipedrive_api_base_url="http://pipedrive.test")
    sandbox = build_sandbox()
    with frozen_clock(sandbox, NOW) as shared:
        async with connected_network(
            Connected, "pipedrive", sandbox, shared, settings, PERIODS
        ) as connected:
            yield connected


async def test_every_predefined_widget_answers_with_a_comparison(pd: Connected) -> None:
    widgets = numbered(reference_widgets("pipedrive"))
    assert len(widgets) == 29
    result = await pd.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, [], 0), w["reference_key"]
        assert "comparison" in body, w["reference_key"]
    funnel = result["w28"]["values"]
    assert funnel[0] >= funnel[1] >= funnel[2] >= funnel[3] >= funnel[4] > 0


async def test_deals_from_the_raw_deals(pd: Connected) -> None:
    keys = (
        "total_won_deals",
        "won_deals_value",
        "total_lost_deals",
        "lost_deals_value",
        "average_won_deals_value",
        "average_duration_deals",
        "total_deals",
        "total_deals_value",
    )
    result = await pd.get_data([widget(f"pipedrive:{k}") for k in keys])
    deals = pd.live("deals")
    for values, (start, end) in (
        (lambda k: result[f"pipedrive:{k}"]["values"], (PERIODS.start, PERIODS.end)),
        (
            lambda k: result[f"pipedrive:{k}"]["comparison"]["values"],
            (PERIODS.comparison_start, PERIODS.comparison_end),
        ),
    ):
        won = [d for d in deals if d["status"] == "won" and in_period(d["won_time"], start, end)]
        lost = [d for d in deals if d["status"] == "lost" and in_period(d["lost_time"], start, end)]
        added = [d for d in deals if in_period(d["add_time"], start, end)]
        assert values("total_won_deals") == len(won) > 0
        assert values("total_lost_deals") == len(lost) > 0
        value = sum(d["value"] for d in won)
        assert values("won_deals_value") == pytest.approx(value, abs=0.01)
        assert values("lost_deals_value") == pytest.approx(sum(d["value"] for d in lost), abs=0.01)
        assert values("average_won_deals_value") == pytest.approx(value / len(won), abs=1e-3)
        days = [
            (parse_instant(d["won_time"]) - parse_instant(d["add_time"])).total_seconds() / 86400  # type: ignore[operator]
            for d in won
        ]
        assert values("average_duration_deals") == pytest.approx(sum(days) / len(days), abs=1e-3)
        assert values("total_deals") == len(added)
        assert values("total_deals_value") == pytest.approx(
            sum(d["value"] for d in added), abs=0.01
        )


async def test_funnel_and_users_from_the_raw_deals(pd: Connected) -> None:
    keys = ("pipedrive:pipeline_summary", "pipedrive:users_table")
    result = await pd.get_data([widget(k) for k in keys], comparison=False)
    deals = pd.live("deals")
    added = [d for d in deals if in_period(d["add_time"])]
    order = {s["id"]: i + 1 for p in pd.data.pipelines for i, s in enumerate(p["stages"])}
    reached = [sum(1 for d in added if order[d["stage_id"]] >= n) for n in range(1, 6)]
    funnel = result["pipedrive:pipeline_summary"]["values"]
    assert funnel[:5] == reached
    assert funnel[5] == sum(1 for d in added if d["status"] == "won")
    names = {u["id"]: u["name"] for u in pd.data.users}
    rows = {row[0]: row[1:] for row in result["pipedrive:users_table"]["values"]}
    activities = pd.live("activities")
    for user, name in names.items():
        won = [
            d
            for d in deals
            if d["owner_id"] == user and d["status"] == "won" and in_period(d["won_time"])
        ]
        mine = [a for a in activities if a["owner_id"] == user]
        assert rows[name][0] == sum(1 for a in mine if in_period(a["add_time"]))
        assert rows[name][2] == sum(
            1 for a in mine if a["done"] and in_period(a["marked_as_done_time"])
        )
        assert rows[name][3] == len(won)
        assert rows[name][4] == pytest.approx(sum(d["value"] for d in won), abs=0.01)


async def test_leads_and_activities_from_the_raw_records(pd: Connected) -> None:
    keys = (
        "total_leads",
        "archived_leads",
        "total_activities",
        "completed_activities",
        "total_calls",
        "total_complete_calls",
        "sent_emails",
    )
    result = await pd.get_data([widget(f"pipedrive:{k}") for k in keys], comparison=False)
    leads = [lead for lead in pd.live("leads") if in_period(lead["add_time"])]
    assert result["pipedrive:total_leads"]["values"] == len(leads) > 0
    archived = sum(1 for lead in leads if lead["is_archived"])
    assert result["pipedrive:archived_leads"]["values"] == archived > 0
    activities = pd.live("activities")
    due = [a for a in activities if in_period(f"{a['due_date']}T{a['due_time']}:00Z")]
    done = [a for a in activities if a["done"] and in_period(a["marked_as_done_time"])]
    assert result["pipedrive:total_activities"]["values"] == len(due) > 0
    assert result["pipedrive:completed_activities"]["values"] == len(done) > 0
    assert result["pipedrive:total_calls"]["values"] == sum(1 for a in due if a["type"] == "call")
    calls_done = sum(1 for a in done if a["type"] == "call")
    assert result["pipedrive:total_complete_calls"]["values"] == calls_done
    assert result["pipedrive:sent_emails"]["values"] == sum(1 for a in done if a["type"] == "email")


async def test_an_edited_and_a_deleted_deal_and_a_deleted_lead_after_a_sync(
    pd: Connected,
) -> None:
    keys = ("pipedrive:total_deals", "pipedrive:won_deals_value", "pipedrive:total_leads")
    first = await pd.get_data([widget(k) for k in keys], comparison=False)
    now_deals = [r for r in pd.data.records["deals"] if r.archived_at is None and r.created <= NOW]
    added = [r for r in now_deals if in_period(r.state(NOW)["add_time"])]  # type: ignore[index]
    doomed = added[0]
    won = next(
        r
        for r in now_deals
        if r.state(NOW)["status"] == "won" and in_period(r.state(NOW)["won_time"])  # type: ignore[index]
    )
    leads = [r for r in pd.data.records["leads"] if r.archived_at is None and r.created <= NOW]
    gone_lead = next(r for r in leads if in_period(r.state(NOW)["add_time"]))  # type: ignore[index]
    at = NOW + timedelta(hours=1)
    doomed.archived_at = at
    doomed.change(at, {"status": "deleted", "is_deleted": True})
    won.change(at, {"value": won.state(NOW)["value"] + 500})  # type: ignore[index]
    gone_lead.archived_at = at
    pd.data.forget()
    pd.clock.set(NOW + timedelta(hours=2))
    second = await pd.get_data([widget(k) for k in keys], comparison=False)
    assert second[keys[0]]["values"] == first[keys[0]]["values"] - 1
    assert second[keys[1]]["values"] == pytest.approx(first[keys[1]]["values"] + 500)
    assert second[keys[2]]["values"] == first[keys[2]]["values"] - 1
