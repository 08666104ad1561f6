"""Every predefined E-goi widget through POST /metrics/get-data on an integration
connected to the emulator, and figures computed independently from the emulator's raw
data: subscriptions and unsubscriptions by day, the lists' sizes, each channel's sums,
unique counts and rates from summed parts, the automations' table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from metrics_connect.networks.egoi.emulator.data import Campaign, EgoiData
from metrics_connect.networks.egoi.emulator.network import build_sandbox
from metrics_connect.settings import Settings
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import Periods, reference_widget, reference_widgets

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Lisbon")
PERIODS = Periods(date(2026, 11, 20))  # through today: the lists' sizes are "now"
BOTH = ((PERIODS.start, PERIODS.end), (PERIODS.comparison_start, PERIODS.comparison_end))


def widget(key: str) -> dict[str, Any]:
    return reference_widget("egoi", key)


@dataclass
class Connected(ConnectedNetwork):
    data: EgoiData

    def sent(self, channel: str, start: date, end: date) -> list[dict[str, int]]:
        """The reports at NOW of the channel's campaigns sent in the period."""
        return [
            self.data.report(c, NOW)
            for c in self.data.sent_by(NOW)
            if c.channel == channel and start <= local_day(c) <= end
        ]


def local_day(campaign: Campaign) -> date:
    return campaign.sent.astimezone(ZONE).date()


def total(reports: list[dict[str, int]], name: str) -> int:
    return sum(r[name] for r in reports)


@pytest.fixture
async def egoi(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, egoi_api_base_url="http://egoi.test")
    sandbox = build_sandbox()
    with frozen_clock(sandbox, NOW) as shared:
        async with connected_network(
            Connected, "egoi", sandbox, shared, settings, PERIODS
        ) as connected:
            yield connected


async def test_every_predefined_widget_answers_with_a_comparison(egoi: Connected) -> None:
    widgets = [{"id": w["reference_key"], **w} for w in reference_widgets("egoi")]
    assert len(widgets) == 26
    result = await egoi.get_data(widgets)
    errors = {k: v["error"] for k, v in result.items() if "error" in v}
    assert errors == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, [], 0), w["reference_key"]
        # the lists' size is "now": past days come only from the sync's daily archive
        if w["component"] == "number_v1" and w["reference_key"] != "egoi:total_contacts":
            assert body["comparison"]["values"] is not None, w["reference_key"]


async def test_email_figures_and_rates_from_the_raw_reports(egoi: Connected) -> None:
    sums = {
        "sent_emails": "sends", "total_email_openings": "opens",
        "unique_email_openings": "unique_opens", "clicks": "clicks",
        "unique_clicks": "unique_clicks", "hard_bounces": "hard_bounces",
        "soft_bounces": "soft_bounces", "complaints": "complaints",
        "email_unsubscriptions": "unsubscriptions",
    }  # fmt: skip
    rates = {
        "email_openings_rate": ("opens", "delivered"),
        "unique_email_openings_rate": ("unique_opens", "delivered"),
        "clicks_rate": ("clicks", "delivered"),
        "unique_clicks_rate": ("unique_clicks", "delivered"),
        "hard_bounces_rate": ("hard_bounces", "sends"),
        "complaints_rate": ("complaints", "delivered"),
        "email_unsubscriptions_rate": ("unsubscriptions", "delivered"),
    }
    keys = [*sums, *rates, "delivered_emails"]
    result = await egoi.get_data([widget(f"egoi:{k}") for k in keys])
    for index, (start, end) in enumerate(BOTH):
        reports = egoi.sent("email", start, end)
        for r in reports:  # e-mails delivered: sent less all bounces
            r["delivered"] = r["sends"] - r["hard_bounces"] - r["soft_bounces"]

        def value(key: str, index: int = index) -> Any:
            body = result[f"egoi:{key}"]
            return body["values"] if index == 0 else body["comparison"]["values"]

        for key, field in sums.items():
            assert value(key) == total(reports, field), key
        assert value("delivered_emails") == total(reports, "delivered") > 0
        for key, (part, whole) in rates.items():
            expected = 100 * total(reports, part) / total(reports, whole)
            assert value(key) == pytest.approx(expected, abs=1e-3), key
        # a unique count is each campaign's own, summed: never above the totals
        assert value("unique_email_openings") < value("total_email_openings")


async def test_sms_web_push_tables_and_the_over_time_chart(egoi: Connected) -> None:
    keys = ("sms_performance", "web_push_performance", "email_campaigns_over_time")
    result = await egoi.get_data([widget(f"egoi:{k}") for k in keys], comparison=False)
    sms = egoi.sent("sms", PERIODS.start, PERIODS.end)
    sms_total = result["egoi:sms_performance"]["values"][-1]
    assert sms_total[0] == "Total"
    sent, destinations = total(sms, "sends"), total(sms, "destinations")
    assert sms_total[1:] == [sent, pytest.approx(100 * sent / destinations, abs=1e-3)]
    assert len(result["egoi:sms_performance"]["values"]) == len(sms) + 1
    push = egoi.sent("web_push", PERIODS.start, PERIODS.end)
    sent, bounces, clicks = (total(push, k) for k in ("sends", "bounces", "clicks"))
    row = result["egoi:web_push_performance"]["values"][-1]
    assert row[1:] == [
        sent,
        pytest.approx(100 * (sent - bounces) / sent, abs=1e-3),
        clicks,
        pytest.approx(100 * clicks / (sent - bounces), abs=1e-3),
    ]
    chart = result["egoi:email_campaigns_over_time"]
    assert len(chart["labels"]) == PERIODS.days
    by_day: dict[str, int] = {}
    for c in egoi.data.sent_by(NOW):
        if c.channel == "email" and PERIODS.start <= local_day(c) <= PERIODS.end:
            day = local_day(c).isoformat()
            by_day[day] = by_day.get(day, 0) + egoi.data.report(c, NOW)["sends"]
    sends = dict(zip(chart["labels"], chart["values"][0]["data"], strict=True))
    assert {d: v for d, v in sends.items() if v} == by_day


async def test_contacts_lists_and_automations_from_the_raw_data(egoi: Connected) -> None:
    keys = ("total_subscriptions", "total_unsubscriptions", "total_contacts",
            "contacts_performance_table", "automation_performance")  # fmt: skip
    result = await egoi.get_data([widget(f"egoi:{k}") for k in keys])
    contacts = [c for c in egoi.data.records["contacts"] if c.created <= NOW]
    for index, (start, end) in enumerate(BOTH):
        joined = [c for c in contacts if start <= c.created.astimezone(ZONE).date() <= end]
        left = [
            c for c in contacts
            if (s := c.state(NOW)) and s["status"] == "inactive"
            and start <= c.modified(NOW).astimezone(ZONE).date() <= end
        ]  # fmt: skip
        body = result["egoi:total_subscriptions"]
        got = body["values"] if index == 0 else body["comparison"]["values"]
        assert got == len(joined) > 0
        body = result["egoi:total_unsubscriptions"]
        got = body["values"] if index == 0 else body["comparison"]["values"]
        assert got == len(left) > 0
    listed = [c for c in contacts if c.created <= NOW]
    assert result["egoi:total_contacts"]["values"] == len(listed)
    table = {row[0]: row[1:] for row in result["egoi:contacts_performance_table"]["values"]}
    for item in egoi.data.lists:
        mine = [c for c in listed if c.state(NOW)["list_id"] == item["list_id"]]  # type: ignore[index]
        joined = [c for c in mine if PERIODS.start <= c.created.astimezone(ZONE).date()]
        subscriptions, rate, _, _, size = table[item["public_name"]]
        assert (subscriptions, size) == (len(joined), len(mine))
        assert rate == pytest.approx(100 * len(joined) / len(mine), abs=1e-3)
    rows = [r for r in result["egoi:automation_performance"]["values"] if r[0] != "Total"]
    created = [
        a for a in egoi.data.records["automations"]
        if PERIODS.start <= a.created.date() <= PERIODS.end
    ]  # fmt: skip
    assert len(rows) == len(created) > 0
    names = {x["list_id"]: x["public_name"] for x in egoi.data.lists}
    expected = {
        a.state(NOW)["title"]: [a.created.date().isoformat(),  # type: ignore[index]
                                names[a.state(NOW)["list_id"]], a.state(NOW)["status"]]  # type: ignore[index]
        for a in created
    }  # fmt: skip
    assert {row[0]: row[1:] for row in rows} == expected


async def test_explain_names_the_syncs_and_the_lists_call(egoi: Connected) -> None:
    body = {
        "customer_integration": egoi.integration_uuid,
        "start": PERIODS.start.isoformat(),
        "end": PERIODS.end.isoformat(),
        "metrics": [widget("egoi:contacts_performance_table"), widget("egoi:sent_emails")],
    }
    r = await egoi.client.post("/metrics/get-data?explain=true", json=body, headers=egoi.headers)
    assert r.status_code == 200, r.text
    text = r.text
    assert "lists/{list_id}/contacts" in text and "reports/email/{campaign_hash}" in text
    assert '"lists/{list_id}"' in text
