"""Every predefined HubSpot marketing widget through POST /metrics/get-data on an
integration connected to the emulator, over 90 days with a comparison; figures checked
against the emulator's raw cells, pages, forms and e-mails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.networks.hubspot_marketing.emulator import data
from metrics_connect.networks.hubspot_marketing.emulator.network import build_sandbox
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

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
END = date(2026, 11, 30)
PERIODS = Periods(END)
SLUG = "hubspot_marketing"


def widget(key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget(SLUG, f"{SLUG}:{key}", **overrides)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def traffic(field: str, start: date, end: date, key: str = "totals") -> dict[str, int]:
    out: dict[str, int] = {}
    for day in days(start, end):
        for name, row in data.traffic_rows(day, key).items():
            out[name] = out.get(name, 0) + row[field]
    return out


def email_total(field: str, start: date, end: date) -> int:
    return sum(
        e.counters(NOW)[field] for e in data.emails() if start <= data.local_day(e.sent_at) <= end
    )


Connected = ConnectedNetwork


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
async def connected(
    network: SandboxNetwork,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    settings = settings_factory(
        sqlite_url,
        hubspot_marketing_api_base_url="http://hubspot.test",
        request_time_budget_seconds=240.0,
    )
    network.controls.calls.reset()
    with frozen_clock(network, NOW) as shared:
        async with connected_network(
            Connected, SLUG, network, shared, settings, PERIODS
        ) as connection:
            yield connection


async def test_every_predefined_widget_answers_with_a_comparison(connected: Connected) -> None:
    widgets = numbered(reference_widgets(SLUG))
    assert len(widgets) == 48
    result = await connected.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    by_key = {w["reference_key"]: result[w["id"]] for w in widgets}
    for w in widgets:
        body = result[w["id"]]
        assert "comparison" in body, w["reference_key"]
        if w["component"] == "number_v1":
            assert isinstance(body["values"], int | float), w["reference_key"]
            assert isinstance(body["comparison"]["values"], int | float), w["reference_key"]
        elif w["component"] == "datatable_v1":
            assert body["values"], w["reference_key"]
        else:
            assert body["labels"], w["reference_key"]
    sent = by_key[f"{SLUG}:sent_emails"]
    assert sent["values"] == email_total("sent", PERIODS.start, END)
    before = email_total("sent", PERIODS.comparison_start, PERIODS.comparison_end)
    assert sent["comparison"]["values"] == before
    sessions = by_key[f"{SLUG}:rawViews_sites"]
    assert sessions["values"] == traffic("visits", PERIODS.start, END)["totals"]


async def test_rates_are_ratios_of_the_period_sums(connected: Connected) -> None:
    start = END - timedelta(days=29)
    keys = (
        "openratio_emails",
        "clickthroughratio_emails",
        "bounce_rate_sites",
        "time_per_session_sites",
        "conversions_customers_sites",
    )
    result = await connected.get_data([widget(k) for k in keys], comparison=False, start=start)
    opens, delivered = email_total("open", start, END), email_total("delivered", start, END)
    clicks = email_total("click", start, END)
    assert result[f"{SLUG}:openratio_emails"]["values"] == pytest.approx(
        100 * opens / delivered, abs=1e-3
    )
    assert result[f"{SLUG}:clickthroughratio_emails"]["values"] == pytest.approx(
        100 * clicks / opens, abs=1e-3
    )
    visits = traffic("visits", start, END)["totals"]
    bounces, seconds = (
        traffic("bounces", start, END)["totals"],
        traffic("seconds", start, END)["totals"],
    )
    contacts, customers = (
        traffic("contacts", start, END)["totals"],
        traffic("customers", start, END)["totals"],
    )
    assert result[f"{SLUG}:bounce_rate_sites"]["values"] == pytest.approx(
        100 * bounces / visits, abs=1e-3
    )
    assert result[f"{SLUG}:time_per_session_sites"]["values"] == pytest.approx(
        seconds / visits, abs=1e-3
    )
    assert result[f"{SLUG}:conversions_customers_sites"]["values"] == pytest.approx(
        100 * customers / contacts, abs=1e-3
    )


async def test_groupings_by_source_email_and_form(connected: Connected) -> None:
    start = END - timedelta(days=29)
    keys = ("origin_datatable_sites", "emails_datatable", "forms_datatable", "contacts_type_chart")
    result = await connected.get_data([widget(k) for k in keys], comparison=False, start=start)
    table = result[f"{SLUG}:origin_datatable_sites"]
    labels = {
        "organic": "Organic search",
        "direct": "Direct traffic",
        "social": "Organic social",
        "email": "Email marketing",
        "paid": "Paid search",
        "referrals": "Referrals",
        "other": "Other campaigns",
    }
    sessions = {labels[k]: v for k, v in traffic("visits", start, END, "source").items()}
    shown = {row[0]: row[2] for row in table["values"] if row[0] != "Total"}
    assert shown == sessions
    emails = result[f"{SLUG}:emails_datatable"]
    sent = {
        e.name: e.counters(NOW)["sent"]
        for e in data.emails()
        if start <= data.local_day(e.sent_at) <= END
    }
    assert {row[0]: row[1] for row in emails["values"] if row[0] != "Total"} == sent
    forms = result[f"{SLUG}:forms_datatable"]
    views: dict[str, int] = {}
    for day in days(start, END):
        for guid, row in data.form_rows(day).items():
            name = next(f.name for f in data.FORMS if f.guid == guid)
            views[name] = views.get(name, 0) + row["formViews"]
    assert {row[0]: row[1] for row in forms["values"] if row[0] != "Total"} == views
    new_contacts = sum(
        row["nonContactSubmissions"]
        for day in days(start, END)
        for row in data.form_rows(day).values()
    )
    pie = result[f"{SLUG}:contacts_type_chart"]
    contacts = traffic("contacts", start, END)["totals"]
    assert {series["label"]: series["data"] for series in pie["values"]} == {
        "New contacts": [new_contacts],
        "Contacts": [contacts],
    }
    edited = {
        f.name: f.updated_at(NOW).astimezone(data.TZ).strftime("%Y-%m-%d %H:%M:%S")
        for f in data.FORMS
    }
    assert {row[0]: row[4] for row in forms["values"] if row[0] != "Total"} == edited


@pytest.mark.parametrize(
    ("switch", "code"),
    [("revoked", "integration_revoked"), ("daily_quota", "upstream_rate_limited")],
)
async def test_upstream_failures_fail_the_widget(
    connected: Connected, switch: str, code: str
) -> None:
    switches = connected.sandbox.controls.switches
    marketing = connected.sandbox.app.state.marketing  # type: ignore[attr-defined]
    if switch == "revoked":
        switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    else:
        marketing.daily_calls_left = 0  # a daily limit: not retried (it renews at midnight)
    try:
        result = await connected.get_data([widget("sent_emails")], comparison=False)
    finally:
        switches.revoked_tokens.clear()
        marketing.daily_calls_left = None
    assert result[f"{SLUG}:sent_emails"]["error"]["code"] == code


def pages(kind: str | None, field: str, start: date, end: date) -> dict[str, int]:
    out: dict[str, int] = {}
    for day in days(start, end):
        for url, row in data.page_rows(day, kind).items():
            out[url] = out.get(url, 0) + row[field]
    return out


def email_rate(part: str, base: str) -> Any:
    def rate(start: date, end: date) -> float:
        return 100 * email_total(part, start, end) / email_total(base, start, end)

    return rate


def traffic_rate(part: str, base: str, scale: float = 100) -> Any:
    def rate(start: date, end: date) -> float:
        whole = traffic(base, start, end)["totals"]
        return scale * traffic(part, start, end)["totals"] / whole

    return rate


def page_rate(kind: str, part: str, base: str, scale: float = 100) -> Any:
    def rate(start: date, end: date) -> float:
        numerator = sum(pages(kind, part, start, end).values())
        return scale * numerator / sum(pages(kind, base, start, end).values())

    return rate


RATES = {
    "deliveredratio_emails": email_rate("delivered", "sent"),
    "clickratio_emails": email_rate("click", "delivered"),
    "unsubscribedratio_emails": email_rate("unsubscribed", "delivered"),
    "hardbounceratio_emails": email_rate("hardbounced", "sent"),
    "spamreportratio_emails": email_rate("spamreport", "delivered"),
    "page_sessions_views_sites": traffic_rate("rawViews", "visits", 1),
    "new_sessions_rate_sites": traffic_rate("visitors", "visits"),
    "conversions_contact_sites": traffic_rate("contacts", "visits"),
    "pageBounceRate_landing_pages": page_rate("landing", "bounces", "entrances"),
    "timePerPageview_landing_pages": page_rate("landing", "seconds", "rawViews", 1),
    "exitsPerPageview_landing_pages": page_rate("landing", "exits", "rawViews", 1),
    "sentRate_landing_pages": page_rate("landing", "submissions", "rawViews"),
    "pageBounceRate_blogs": page_rate("blog", "bounces", "entrances"),
}


async def test_every_rate_widget_is_the_ratio_of_the_raw_sums(connected: Connected) -> None:
    start = END - timedelta(days=29)
    result = await connected.get_data([widget(k) for k in RATES], comparison=False, start=start)
    for key, rate in RATES.items():
        assert result[f"{SLUG}:{key}"]["values"] == pytest.approx(rate(start, END), abs=1e-3), key


async def test_page_and_country_tables_divide_their_rows_sums(connected: Connected) -> None:
    start = END - timedelta(days=29)
    keys = ("top_pages_datatable_sites", "sites_countries_datatable")
    result = await connected.get_data([widget(k) for k in keys], comparison=False, start=start)
    views, seconds = pages(None, "rawViews", start, END), pages(None, "seconds", start, END)
    bounces, entrances = pages(None, "bounces", start, END), pages(None, "entrances", start, END)
    table = result[f"{SLUG}:top_pages_datatable_sites"]
    assert table["headers"][1:] == ["Views", "Entrances", "Time per pageview", "Page bounce rate"]
    rows = {row[0]: row[1:] for row in table["values"] if row[0] != "Total"}
    assert set(rows) == set(views)
    for url, (shown_views, shown_entrances, per_view, bounce_rate) in rows.items():
        assert (shown_views, shown_entrances) == (views[url], entrances[url])
        assert per_view == pytest.approx(seconds[url] / views[url], abs=1e-3)
        assert bounce_rate == pytest.approx(100 * bounces[url] / entrances[url], abs=1e-3)
    countries = result[f"{SLUG}:sites_countries_datatable"]
    contacts = traffic("contacts", start, END, "country")
    country_views = traffic("rawViews", start, END, "country")
    index = countries["headers"].index("Contacts per pageview")
    shown = {row[0]: row[index] for row in countries["values"] if row[0] != "Total"}
    expected = {c: contacts[c] / country_views[c] for c in contacts}
    assert shown == pytest.approx(expected, abs=1e-3)


async def test_per_email_calls_are_one_histogram_per_email_sent_in_the_period(
    connected: Connected,
) -> None:
    start = END - timedelta(days=13)
    body = {
        "customer_integration": connected.integration_uuid,
        "start": start.isoformat(),
        "end": END.isoformat(),
        "metrics": [widget("emails_datatable"), widget("sent_emails")],
    }
    explained = await connected.client.post(
        "/metrics/get-data?explain=true", json=body, headers=connected.headers
    )
    assert explained.status_code == 200, explained.text
    fetches = {f["variant"]: f for f in explained.json()["explain"]["fetches"]}
    # the period's total: one exact call; per e-mail: the listing, then one call an
    # e-mail (how many, only the listing says)
    assert [c["path"] for c in fetches["-"]["calls"]] == [
        "/marketing/v3/emails/statistics/histogram"
    ]
    per_email = fetches['{"b":["email_name"]}']
    assert per_email["estimated"] is True
    assert [c["path"] for c in per_email["calls"]] == [
        "/marketing/v3/emails",
        "/marketing/v3/emails/statistics/histogram",
    ]
    calls = connected.sandbox.controls.calls
    calls.reset()
    await connected.get_data(body["metrics"], comparison=False, start=start)
    sent = [e for e in data.emails() if start <= data.local_day(e.sent_at) <= END]
    listed = [e for e in data.emails() if e.sent_at - timedelta(days=2) <= NOW]
    assert calls.by_endpoint == {
        "GET /marketing/v3/emails": -(-len(listed) // 100),  # pages of 100
        # one per e-mail on its send day, and one for the period's total
        "GET /marketing/v3/emails/statistics/histogram": len(sent) + 1,
    }
