"""Every predefined HubSpot CRM widget through POST /metrics/get-data on an integration
connected to the emulator, and figures computed independently from the emulator's raw
records: a funnel's stage conversions, won revenue by close date, a deal edited after an
earlier sync counted once with its latest values, a deleted and a merged contact gone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from metrics_connect.engine.records import parse_instant
from metrics_connect.engine.tables import records as records_table
from metrics_connect.networks.hubspot_crm.emulator.data import CrmData, Props
from metrics_connect.networks.hubspot_crm.emulator.network import build_sandbox
from metrics_connect.settings import Settings
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import (
    Periods,
    get_data,
    numbered,
    reference_widget,
    reference_widgets,
    widget_errors,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/Sao_Paulo")
PERIODS = Periods(date(2026, 11, 19))
FUNNEL = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
)


def widget(key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("hubspot_crm", key, **overrides)


@dataclass
class Connected(ConnectedNetwork):
    data: CrmData

    def live(self, name: str) -> list[Props]:
        return [p for _, p in self.data.live(name, self.clock.current)]


def day_of(value: Any) -> date | None:
    instant = parse_instant(value)
    return instant.astimezone(ZONE).date() if instant is not None else None


def in_period(value: Any, start: date = PERIODS.start, end: date = PERIODS.end) -> bool:
    day = day_of(value)
    return day is not None and start <= day <= end


@pytest.fixture
async def hubspot(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, hubspot_crm_api_base_url="http://hubspot.test")
    sandbox = build_sandbox()
    with frozen_clock(sandbox, NOW) as shared:
        async with connected_network(
            Connected, "hubspot_crm", sandbox, shared, settings, PERIODS
        ) as connected:
            yield connected


async def test_every_predefined_widget_answers_with_a_comparison(hubspot: Connected) -> None:
    widgets = numbered(reference_widgets("hubspot_crm"))
    assert len(widgets) == 26
    result = await hubspot.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, []), w["reference_key"]
        assert "comparison" in body, w["reference_key"]
    funnel = result["w1"]
    assert funnel["values"][0] > funnel["values"][-1] > 0
    assert funnel["comparison"]["values"][0] > 0


async def test_funnel_stage_conversions_from_the_raw_deals(hubspot: Connected) -> None:
    result = await hubspot.get_data([widget("hubspot_crm:pipeline_deals_funnel")])
    deals = hubspot.live("deals")
    entered = [
        sum(1 for d in deals if in_period(d.get(f"hs_v2_date_entered_{stage}"))) for stage in FUNNEL
    ]
    body = result["hubspot_crm:pipeline_deals_funnel"]
    assert body["values"] == entered
    assert body["labels"][0] == "Appointment scheduled"
    conversions = [round(b / a, 4) for a, b in pairwise(entered)]
    ours = [round(b / a, 4) for a, b in pairwise(body["values"])]
    assert ours == conversions and all(0 < c < 1.5 for c in conversions)
    qualified = await hubspot.get_data(
        [
            {
                "id": "q",
                "reference_key": "hubspot_crm:x",
                "component": "number_v1",
                "metrics": ["qualified_to_won"],
                "dimensions": ["deal"],
            }
        ],
        comparison=False,
    )
    assert qualified["q"]["values"] == pytest.approx(100 * entered[5] / entered[1], abs=1e-3)


async def test_won_revenue_by_close_date_and_the_rates(hubspot: Connected) -> None:
    keys = (
        "hubspot_crm:total_amount_deals",
        "hubspot_crm:closed_deals",
        "hubspot_crm:lost_deals",
        "hubspot_crm:closed_rate_deals",
        "hubspot_crm:average_amount_deals",
        "hubspot_crm:created_deals",
    )
    result = await hubspot.get_data([widget(k) for k in keys])
    deals = hubspot.live("deals")

    def closed(won: bool, start: date, end: date) -> list[Props]:
        return [
            d
            for d in deals
            if d.get("hs_is_closed") == "true"
            and (d.get("hs_is_closed_won") == "true") == won
            and in_period(d.get("closedate"), start, end)
        ]

    for values, (start, end) in (
        (lambda k: result[k]["values"], (PERIODS.start, PERIODS.end)),
        (
            lambda k: result[k]["comparison"]["values"],
            (PERIODS.comparison_start, PERIODS.comparison_end),
        ),
    ):
        won, lost = closed(True, start, end), closed(False, start, end)
        revenue = sum(float(d["amount_in_home_currency"] or 0) for d in won)
        assert values("hubspot_crm:total_amount_deals") == pytest.approx(revenue, abs=0.01)
        assert values("hubspot_crm:closed_deals") == len(won) > 0
        assert values("hubspot_crm:lost_deals") == len(lost) > 0
        assert values("hubspot_crm:closed_rate_deals") == pytest.approx(
            100 * len(won) / (len(won) + len(lost)), abs=1e-3
        )
        assert values("hubspot_crm:average_amount_deals") == pytest.approx(
            revenue / len(won), abs=1e-3
        )
        created = [d for d in deals if in_period(d.get("createdate"), start, end)]
        assert values("hubspot_crm:created_deals") == len(created)
    # Deals in USD make the deal-currency amount a mix: refused, the home currency answers.
    mixed = await hubspot.get_data(
        [
            {
                "id": "m",
                "reference_key": "hubspot_crm:x",
                "component": "number_v1",
                "metrics": ["deal_amount"],
                "dimensions": ["deal"],
            }
        ],
        comparison=False,
    )
    assert mixed["m"]["error"]["code"] == "mixed_currencies"


async def test_an_edited_deal_counts_once_with_its_latest_amount(hubspot: Connected) -> None:
    later = NOW + timedelta(days=1)
    deals = {r.id: r for r in hubspot.data.records["deals"]}

    def amount_changes(record: Any) -> list[datetime]:
        return [w for w, d in record.changes if "amount" in d and w > record.created]

    # A deal won in the period whose amount is edited between the two syncs (the seeded
    # data's own edit if one falls in that day, else one made as a user would).
    def won_in_period(record: Any) -> bool:
        state = record.state(NOW)
        return (
            state is not None
            and record.archived_at is None
            and state.get("hs_is_closed_won") == "true"
            and in_period(state.get("closedate"))
        )

    edited = next(
        (
            r
            for r in deals.values()
            if won_in_period(r) and any(NOW < w <= later for w in amount_changes(r))
        ),
        None,
    )
    if edited is None:
        edited = next(r for r in deals.values() if won_in_period(r))
        old = float(edited.state(NOW)["amount_in_home_currency"])  # type: ignore[index]
        edited.change(NOW + timedelta(hours=3), {"amount_in_home_currency": str(old + 1000)})
        edited.changes.sort(key=lambda c: c[0])
        hubspot.data.forget()
        hubspot.sandbox.app.state.api.searches.clear()  # type: ignore[attr-defined]
    key = "hubspot_crm:total_amount_deals"
    before = (await hubspot.get_data([widget(key)], comparison=False))[key]["values"]
    hubspot.clock.set(later)
    after = (await hubspot.get_data([widget(key)], comparison=False))[key]["values"]
    old_amount = float(edited.state(NOW)["amount_in_home_currency"])  # type: ignore[index]
    new_amount = float(edited.state(later)["amount_in_home_currency"])  # type: ignore[index]
    assert old_amount != new_amount
    expected = sum(
        float(d["amount_in_home_currency"] or 0)
        for d in hubspot.live("deals")
        if d.get("hs_is_closed_won") == "true" and in_period(d.get("closedate"))
    )
    assert after == pytest.approx(expected, abs=0.01)
    assert before != after
    async with hubspot.runtime.db.engine.connect() as conn:
        stored = (
            await conn.execute(
                select(records_table.c.amount, records_table.c.fields).where(
                    records_table.c.dataset == "deals", records_table.c.record_id == edited.id
                )
            )
        ).all()
    assert (
        len(stored) == 1
        and f'"amount_home":"{edited.state(later)["amount_in_home_currency"]}"' in stored[0][1]
    )  # type: ignore[index]


async def test_deleted_and_merged_contacts_are_gone(hubspot: Connected) -> None:
    key = "hubspot_crm:created_contacts"
    first = (await hubspot.get_data([widget(key)], comparison=False))[key]["values"]
    contacts = hubspot.data.records["contacts"]
    later = NOW + timedelta(days=30)
    in_span = [c for c in contacts if in_period(c.state(NOW) and c.state(NOW)["createdate"])]  # type: ignore[index]
    deleted = [c for c in in_span if c.archived_at is not None and NOW < c.archived_at <= later]
    merged = [c for c in in_span if c.merged_at is not None and NOW < c.merged_at <= later]
    assert deleted and merged
    hubspot.clock.set(later)
    second = (await hubspot.get_data([widget(key)], comparison=False))[key]["values"]
    expected = sum(1 for c in hubspot.live("contacts") if in_period(c["createdate"]))
    assert second == expected == first - len(deleted) - len(merged)
    async with hubspot.runtime.db.engine.connect() as conn:
        flags = dict(
            (
                await conn.execute(
                    select(records_table.c.record_id, records_table.c.deleted).where(
                        records_table.c.dataset == "contacts",
                        records_table.c.record_id.in_([c.id for c in deleted + merged]),
                    )
                )
            ).all()
        )
    assert flags == {c.id: True for c in deleted + merged}


async def test_open_deals_now_by_stage(hubspot: Connected) -> None:
    today = NOW.astimezone(ZONE).date()
    widgets = [
        {
            "id": "n",
            "reference_key": "hubspot_crm:open",
            "component": "number_v1",
            "metrics": ["open_deals"],
        },
        {
            "id": "t",
            "reference_key": "hubspot_crm:open_by_stage",
            "component": "datatable_v1",
            "metrics": ["open_deals"],
            "dimensions": ["stage"],
        },
        # Records and a fetched snapshot in one request: both answer.
        widget("hubspot_crm:created_deals"),
    ]
    result = await get_data(
        hubspot.client,
        hubspot.headers,
        hubspot.integration_uuid,
        widgets,
        PERIODS,
        comparison=False,
        start=today,
        end=today,
    )
    open_deals = [d for d in hubspot.live("deals") if d.get("hs_is_closed") != "true"]
    assert result["n"]["values"] == len(open_deals) > 0
    rows = {row[0]: row[1] for row in result["t"]["values"]}
    assert rows["Total"] == len(open_deals)
    assert rows["Appointment Scheduled"] == sum(
        1 for d in open_deals if d["dealstage"] == "appointmentscheduled"
    )
    created = sum(1 for d in hubspot.live("deals") if in_period(d["createdate"], today, today))
    assert result["hubspot_crm:created_deals"]["values"] == created


async def test_revenue_goals_fall_on_the_portals_first_days(hubspot: Connected) -> None:
    result = await hubspot.get_data([widget("hubspot_crm:deals_target")], comparison=False)
    chart = result["hubspot_crm:deals_target"]
    target = dict(zip(chart["labels"], chart["values"][0]["data"], strict=True))
    goals = {
        day_of(g["hs_start_datetime"]).isoformat(): float(g["hs_target_amount"])  # type: ignore[union-attr]
        for g in hubspot.live("goal_targets")
        if in_period(g["hs_start_datetime"])
    }
    assert goals and all(day.endswith("-01") for day in goals)
    assert {day: value for day, value in target.items() if value} == goals
