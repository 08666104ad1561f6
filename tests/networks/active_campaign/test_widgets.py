"""Every predefined ActiveCampaign widget through POST /metrics/get-data on an integration
connected to the emulator, and figures computed independently from the emulator's raw
records: campaign sums and rates by send date, deals won and lost by their closing
modification per currency, contacts held at the period's end, form entries, automations'
entries and completions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.networks.active_campaign.conftest import PERIODS, Connected, in_period
from tests.networks.widgets import numbered, reference_widget, reference_widgets, widget_errors

pytestmark = pytest.mark.asyncio(loop_scope="module")


def widget(key: str) -> dict[str, Any]:
    return reference_widget("active_campaign", key)


async def test_every_predefined_widget_answers_with_a_comparison(ac: Connected) -> None:
    widgets = numbered(reference_widgets("active_campaign"))
    assert len(widgets) == 37
    result = await ac.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, [], 0), w["reference_key"]
        assert "comparison" in body, w["reference_key"]


def _int(value: Any) -> int:
    return int(value or 0)


async def test_campaign_sums_and_rates_from_the_raw_campaigns(ac: Connected) -> None:
    keys = ("send", "opens", "clicks", "unique_clicks", "bounces", "replies", "opens_rate")
    result = await ac.get_data([widget(f"active_campaigns:{k}") for k in keys])
    for values, (start, end) in (
        (lambda k: result[f"active_campaigns:{k}"]["values"], (PERIODS.start, PERIODS.end)),
        (
            lambda k: result[f"active_campaigns:{k}"]["comparison"]["values"],
            (PERIODS.comparison_start, PERIODS.comparison_end),
        ),
    ):
        sent = [c for c in ac.live("campaigns") if in_period(c["sdate"], start, end)]
        total = {f: sum(_int(c[f]) for c in sent) for f in ("send_amt", "uniqueopens")}
        assert values("send") == total["send_amt"] > 0
        assert values("opens") == total["uniqueopens"] > 0
        assert values("clicks") == sum(_int(c["linkclicks"]) for c in sent)
        assert values("unique_clicks") == sum(_int(c["uniquelinkclicks"]) for c in sent)
        assert values("bounces") == sum(_int(c["hardbounces"]) for c in sent)
        assert values("replies") == sum(_int(c["replies"]) for c in sent)
        rate = 100 * total["uniqueopens"] / total["send_amt"]
        assert values("opens_rate") == pytest.approx(rate, abs=1e-3)


async def test_deals_by_closing_and_currency_from_the_raw_deals(ac: Connected) -> None:
    keys = ("created_deals", "won_deals", "lost_deals", "won_deals_values_usd")
    keys += ("won_deals_values_brl", "average_lost_deals_values_usd", "deals_values_brl")
    result = await ac.get_data([widget(f"active_campaigns:{k}") for k in keys], comparison=False)
    deals = ac.live("deals")
    closed = [d for d in deals if d["status"] != "0" and in_period(d["mdate"])]
    won = [d for d in closed if d["status"] == "1"]
    lost = [d for d in closed if d["status"] == "2"]

    def money(items: list[dict[str, Any]], currency: str) -> list[float]:
        return [_int(d["value"]) / 100 for d in items if d["currency"] == currency]

    values = {k: result[f"active_campaigns:{k}"]["values"] for k in keys}
    assert values["created_deals"] == sum(1 for d in deals if in_period(d["cdate"])) > 0
    assert values["won_deals"] == len(won) > 0
    assert values["lost_deals"] == len(lost) > 0
    assert values["won_deals_values_usd"] == pytest.approx(sum(money(won, "usd")))
    assert values["won_deals_values_brl"] == pytest.approx(sum(money(won, "brl")))
    lost_usd = money(lost, "usd")
    assert values["average_lost_deals_values_usd"] == pytest.approx(
        sum(lost_usd) / len(lost_usd), abs=1e-3
    )
    created_brl = [d for d in deals if in_period(d["cdate"])]
    assert values["deals_values_brl"] == pytest.approx(sum(money(created_brl, "brl")))


async def test_contacts_entries_and_automations_from_the_raw_records(ac: Connected) -> None:
    keys = ("total_contacts", "new_contacts", "total_entries", "average_entries")
    widgets = [widget(f"active_campaigns:{k}") for k in keys]
    widgets.append(widget("active_campaigns:automation_summary"))
    result = await ac.get_data(widgets, comparison=False)
    contacts = ac.live("contacts")
    values = {k: result[f"active_campaigns:{k}"]["values"] for k in keys}
    assert values["total_contacts"] == sum(
        1 for c in contacts if in_period(c["cdate"], PERIODS.start.replace(year=2000))
    )
    assert values["new_contacts"] == sum(1 for c in contacts if in_period(c["cdate"])) > 0
    entries = [c for c in contacts if c["contactLists"][0]["form"] and in_period(c["cdate"])]
    assert values["total_entries"] == len(entries) > 0
    forms = {c["contactLists"][0]["form"] for c in entries}
    assert values["average_entries"] == pytest.approx(len(entries) / len(forms), abs=1e-3)
    names = {a["id"]: a["name"] for a in ac.data.automations}
    rows = {row[0]: row for row in result["active_campaigns:automation_summary"]["values"]}
    for automation_id, name in names.items():
        mine = [e for e in ac.live("contactAutomations") if e["automation"] == automation_id]
        entered = sum(1 for e in mine if in_period(e["adddate"]))
        completed = sum(1 for e in mine if e["status"] == "2" and in_period(e["remdate"]))
        assert rows[name][3] == entered > 0
        assert rows[name][5] == completed


async def test_a_deleted_contact_and_an_edited_deal_after_a_sync(ac: Connected) -> None:
    """Last in the module: it moves the shared clock on."""
    keys = ("new_contacts", "total_contacts", "won_deals_values_usd")
    widgets = [widget(f"active_campaigns:{k}") for k in keys]
    first = await ac.get_data(widgets, comparison=False)
    now = ac.clock.current
    contact = next(r for r, f in ac.data.live("contacts", now) if in_period(f["cdate"]))
    deal = next(
        r
        for r, f in ac.data.live("deals", now)
        if f["status"] == "1" and f["currency"] == "usd" and in_period(f["mdate"])
    )
    contact.archived_at = now + timedelta(minutes=30)
    value = _int(deal.state(now)["value"]) + 50_000  # type: ignore[index]
    # An edit after closing moves mdate out of the period: count it at its close instead.
    deal.changes[-1][1]["value"] = str(value)
    deal._timeline = None
    ac.data.forget()
    ac.clock.set(now + timedelta(hours=2))
    second = await ac.get_data(widgets, comparison=False)
    got = {k: second[f"active_campaigns:{k}"]["values"] for k in keys}
    before = {k: first[f"active_campaigns:{k}"]["values"] for k in keys}
    assert got["new_contacts"] == before["new_contacts"] - 1
    assert got["total_contacts"] == before["total_contacts"] - 1
    assert got["won_deals_values_usd"] == pytest.approx(before["won_deals_values_usd"] + 500)
