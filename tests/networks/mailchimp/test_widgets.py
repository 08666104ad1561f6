"""Every predefined Mailchimp widget through POST /metrics/get-data on an integration
connected to the emulator, and figures computed independently from the emulator's raw
reports and open events: sums by send time in the account's time zone, rates over the
delivered, unique opens as each campaign's own uniques (never daily uniques summed),
opens by the day they happened, a report that grew after an earlier sync counted once
with its latest figures, a deleted campaign gone, error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from metrics_connect.networks.mailchimp.emulator.data import MailchimpData
from metrics_connect.networks.mailchimp.emulator.network import build_sandbox
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
ZONE = ZoneInfo("America/Sao_Paulo")
PERIODS = Periods(date(2026, 11, 20))


def widget(key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("mailchimp", key, **overrides)


@dataclass
class Connected(ConnectedNetwork):
    data: MailchimpData

    def reports(self, start: date, end: date) -> list[dict[str, Any]]:
        """The reports as the emulator holds them now, of campaigns sent in [start, end]."""
        at = self.clock.current
        return [
            self.data.report(c, at)
            for c in self.data.sent(at)
            if start <= c.send_time.astimezone(ZONE).date() <= end
        ]


@pytest.fixture
async def mailchimp(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[Connected]:
    settings = settings_factory(
        sqlite_url,
        mailchimp_api_base_url="http://mailchimp.test",
        upstream_retry_budget_seconds=0.5,  # the failure tests give up quickly
    )
    sandbox = build_sandbox()
    with frozen_clock(sandbox, NOW) as shared:
        async with connected_network(
            Connected, "mailchimp", sandbox, shared, settings, PERIODS
        ) as connected:
            yield connected


async def test_every_predefined_widget_answers_with_a_comparison(mailchimp: Connected) -> None:
    widgets = numbered(reference_widgets("mailchimp"))
    assert len(widgets) == 18
    result = await mailchimp.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, []), w["reference_key"]
        if w["reference_key"] != "mailchimp:lists":  # "now" only: no earlier snapshot here
            assert "comparison" in body, w["reference_key"]


SUMS = {
    "mailchimp:emails_sent": lambda r: r["emails_sent"],
    "mailchimp:unsubscribed": lambda r: r["unsubscribed"],
    "mailchimp:clicks_total": lambda r: r["clicks"]["clicks_total"],
    "mailchimp:unique_clicks": lambda r: r["clicks"]["unique_clicks"],
    "mailchimp:opens_total": lambda r: r["opens"]["opens_total"],
    "mailchimp:unique_opens": lambda r: r["opens"]["unique_opens"],
    "mailchimp:soft_bounces": lambda r: r["bounces"]["soft_bounces"],
    "mailchimp:hard_bounces": lambda r: r["bounces"]["hard_bounces"],
    "mailchimp:forwards_count": lambda r: r["forwards"]["forwards_count"],
    "mailchimp:forwards_opens": lambda r: r["forwards"]["forwards_opens"],
    "mailchimp:campaigns_count": lambda r: 1,
}


async def test_sums_and_rates_from_the_raw_reports(mailchimp: Connected) -> None:
    keys = [*SUMS, "mailchimp:opens_total_rate", "mailchimp:clicks_total_rate"]
    result = await mailchimp.get_data([widget(k) for k in keys])
    earlier = (PERIODS.comparison_start, PERIODS.comparison_end)
    spans = (
        (lambda k: result[k]["values"], (PERIODS.start, PERIODS.end)),
        (lambda k: result[k]["comparison"]["values"], earlier),
    )
    for pick, (start, end) in spans:
        reports = mailchimp.reports(start, end)
        assert len(reports) > 20
        for key, part in SUMS.items():
            assert pick(key) == sum(part(r) for r in reports), key
        delivered = sum(
            r["emails_sent"] - r["bounces"]["hard_bounces"] - r["bounces"]["soft_bounces"]
            for r in reports
        )
        openers = sum(r["opens"]["unique_opens"] for r in reports)
        clickers = sum(r["clicks"]["unique_subscriber_clicks"] for r in reports)
        assert pick("mailchimp:opens_total_rate") == pytest.approx(
            100 * openers / delivered, abs=1e-3
        )
        assert pick("mailchimp:clicks_total_rate") == pytest.approx(
            100 * clickers / delivered, abs=1e-3
        )
    # Unique opens are each campaign's distinct openers, not the sum of its hourly ones.
    reports = mailchimp.reports(PERIODS.start, PERIODS.end)
    hourly = sum(t["unique_opens"] for r in reports for t in r["timeseries"])
    assert result["mailchimp:unique_opens"]["values"] < hourly


async def test_opens_by_the_day_they_happened(mailchimp: Connected) -> None:
    key = "mailchimp:opens_by_day"
    body = (await mailchimp.get_data([widget(key)], comparison=False))[key]
    at = mailchimp.clock.current
    by_day: dict[str, int] = {}
    for c in mailchimp.data.sent(at):
        for e in mailchimp.data.until(c, at):
            day = e[0].astimezone(ZONE).date()
            if e[1] == "open" and PERIODS.start <= day <= PERIODS.end:
                by_day[day.isoformat()] = by_day.get(day.isoformat(), 0) + 1
    series = body["values"][0]["data"]
    ours = {label: value for label, value in zip(body["labels"], series, strict=True)}
    assert sum(ours.values()) == sum(by_day.values()) > 0
    assert {k: v for k, v in ours.items() if v} == by_day


async def test_a_report_read_again_counts_once_with_its_latest_figures(
    mailchimp: Connected,
) -> None:
    key = "mailchimp:opens_total"
    before = (await mailchimp.get_data([widget(key)], comparison=False))[key]["values"]
    later = NOW + timedelta(days=2)
    mailchimp.clock.set(later)
    after = (await mailchimp.get_data([widget(key)], comparison=False))[key]["values"]
    expected = sum(r["opens"]["opens_total"] for r in mailchimp.reports(PERIODS.start, PERIODS.end))
    assert after == expected and after > before


async def test_a_deleted_campaign_is_gone(mailchimp: Connected) -> None:
    key = "mailchimp:campaigns_count"
    first = (await mailchimp.get_data([widget(key)], comparison=False))[key]["values"]
    # The account deletes its latest campaign after the first sync (within the window
    # the next sync lists again).
    latest = max(mailchimp.data.sent(NOW), key=lambda c: c.send_time)
    latest.deleted_at = NOW + timedelta(hours=1)
    mailchimp.clock.set(NOW + timedelta(hours=2))
    second = (await mailchimp.get_data([widget(key)], comparison=False))[key]["values"]
    assert second == len(mailchimp.reports(PERIODS.start, PERIODS.end)) == first - 1


async def test_the_audiences_now(mailchimp: Connected) -> None:
    key = "mailchimp:lists"
    body = (await mailchimp.get_data([widget(key)], comparison=False))[key]
    at = mailchimp.clock.current
    rows = {row[0]: row[1:] for row in body["values"]}
    for lst in mailchimp.data.lists:
        stats = mailchimp.data.list_body(lst, at)["stats"]
        assert rows[lst["name"]] == [
            stats["member_count"],
            stats["open_rate"],
            stats["click_rate"],
            stats["campaign_last_sent"],
        ]
    assert body["headers"][0] == "Audience"


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("revoked", "integration_revoked"),  # 401 API Key Invalid: the app was disconnected
        ("disabled", "integration_revoked"),  # 403 User Disabled
        ("rate_limited", "upstream_rate_limited"),  # 429 Too Many Requests
        ("server_error", "upstream_error"),  # 500, retried, then failed
    ],
)
async def test_upstream_failures_fail_each_widget(
    mailchimp: Connected, fault: str, code: str
) -> None:
    switches = mailchimp.sandbox.controls.switches
    token = mailchimp.sandbox.demo_account.credentials["access_token"]
    if fault == "revoked":
        switches.expired_tokens.add(token)
    elif fault == "disabled":
        switches.revoked_tokens.add(token)
    elif fault == "rate_limited":
        switches.rate_limit_next = 10_000
    else:
        switches.server_error_ratio = 1.0
    keys = ("mailchimp:unique_opens", "mailchimp:opens_by_day")
    result = await mailchimp.get_data([widget(k) for k in keys], comparison=False)
    for key in keys:
        assert result[key]["error"]["code"] == code, key


async def test_explain_shows_the_sync_and_the_snapshot_calls(mailchimp: Connected) -> None:
    body = {
        "customer_integration": mailchimp.integration_uuid,
        "start": PERIODS.start.isoformat(),
        "end": PERIODS.end.isoformat(),
        "metrics": [widget("mailchimp:unique_opens"), widget("mailchimp:lists")],
    }
    response = await mailchimp.client.post(
        "/metrics/get-data?explain=true", json=body, headers=mailchimp.headers
    )
    explain = response.json()["explain"]
    records = {r["dataset"]: r for r in explain["records"]}
    assert records["campaigns"]["sync"] == "missing"
    first = records["campaigns"]["calls"][0]
    assert first["path"] == "3.0/reports" and first["params"]["count"] == "1000"
    assert "since_send_time" not in first["params"]  # a first sync reads every report
    fetches = {f["dataset"]: f for f in explain["fetches"]}
    assert fetches["lists"]["calls"] == [
        {"method": "GET", "path": "3.0/lists", "params": {"count": "1000"}}
    ]
    assert mailchimp.sandbox.controls.calls.total == 0  # explain calls nothing
