"""Every predefined RD Station Marketing widget that the analytics endpoints can answer,
through POST /metrics/get-data on an integration connected to the emulator, over 90 days
with a comparison, and figures computed independently from the emulator's raw answers:
the funnel's sums of days, the campaigns' rates as ratios of summed parts, an asset's
conversion rate over the exact period."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.rd_station.emulator.data import MarketingData
from metrics_connect.networks.rd_station.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving
from tests.networks.widgets import (
    Periods,
    get_data,
    numbered,
    reference_widget,
    reference_widgets,
    widget_errors,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PERIODS = Periods(date(2026, 11, 19))


@pytest.fixture
async def rd(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[Any, dict[str, str], str, MarketingData]]:
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    settings = settings_factory(sqlite_url, rd_station_api_base_url="http://rd.test")
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["rd_station"] = httpx.ASGITransport(app=sandbox.app)
    async with serving(create_app(runtime=runtime)) as client:
        account = await connect_account(runtime, "rd_station", sandbox.demo_account)
        yield client, account.headers, account.integration_uuid, sandbox.data
    clock.set_clock(None)


async def ask(rd: Any, widgets: list[dict[str, Any]], comparison: bool = True) -> Any:
    client, headers, uuid, _ = rd
    return await get_data(client, headers, uuid, widgets, PERIODS, comparison=comparison)


def days(data: MarketingData, start: date, end: date) -> list[dict[str, Any]]:
    return [data.day(d) for d in data.days(start, end)]


async def test_every_served_predefined_widget_answers_with_a_comparison(rd: Any) -> None:
    widgets = numbered(reference_widgets("rd_station"))
    assert len(widgets) == 43
    result = await ask(rd, widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, [], 0), w["reference_key"]
        assert "comparison" in body, w["reference_key"]


async def test_funnel_and_campaign_figures_from_the_raw_answers(rd: Any) -> None:
    data = rd[3]
    keys = (
        "rdstation:leads_converted",
        "rdstation:clients_conversions",
        "rdstation_experiment_visitors_count",
        "rdstation_experiment_opening_rate",
        "rdstation_experiment_emails_sent",
        "rdstation_experiment_email_count",
        "rdstation_experiment_bounces_rate",
    )
    result = await ask(rd, [reference_widget("rd_station", k) for k in keys])
    for pick, (start, end) in (
        (lambda k: result[k]["values"], (PERIODS.start, PERIODS.end)),
        (
            lambda k: result[k]["comparison"]["values"],
            (PERIODS.comparison_start, PERIODS.comparison_end),
        ),
    ):
        span = days(data, start, end)
        funnel = [d["funnel"] for d in span]
        assert pick("rdstation:leads_converted") == sum(f["contacts_count"] for f in funnel) > 0
        assert pick("rdstation:clients_conversions") == sum(f["sales_count"] for f in funnel)
        assert pick("rdstation_experiment_visitors_count") == sum(
            f["visitors_count"] for f in funnel
        )
        campaigns = [c for d in span for c in d["campaigns"]]
        assert pick("rdstation_experiment_email_count") == len(campaigns) > 0
        delivered = sum(c["email_delivered_count"] for c in campaigns)
        opened = sum(c["email_opened_unique_count"] for c in campaigns)
        assert pick("rdstation_experiment_opening_rate") == pytest.approx(
            100 * opened / delivered, abs=1e-3
        )
        bounced = sum(c["email_bounced_unique_count"] for c in campaigns)
        assert pick("rdstation_experiment_emails_sent") == delivered + bounced
        selected = sum(c["contacts_count"] for c in campaigns)
        assert pick("rdstation_experiment_bounces_rate") == pytest.approx(
            100 * bounced / selected, abs=1e-3
        )


async def test_landing_pages_convert_over_the_exact_period(rd: Any) -> None:
    data = rd[3]
    key = "rdstation_experiment_converesions_landing_page_performance"
    result = await ask(rd, [reference_widget("rd_station", key)], comparison=False)
    span = days(data, PERIODS.start, PERIODS.end)
    pages = [a for a in data.spec["assets"] if a["asset_type"] == "LandingPage"]
    rows = {row[0]: row[1:] for row in result[key]["values"]}
    for page in pages:
        visits = sum(d["assets"][page["asset_id"]][0] for d in span)
        converted = sum(d["assets"][page["asset_id"]][1] for d in span)
        assert rows[page["asset_identifier"]][0] == visits
        assert rows[page["asset_identifier"]][1] == pytest.approx(
            100 * converted / visits, abs=1e-3
        )
        assert rows[page["asset_identifier"]][2] == converted
    assert not set(rows) & {"popup-desconto-10", "form-contato"}
