"""The reference metrics of Google Ads that are no sums: the campaigns' location criteria
(text), the keywords' historical quality (a score averaged over impressions, enums per
keyword), the types of interactions (a repeated enum) and the optimization score's
uplift and page ("now" figures the sync archives daily). Each is checked against the
emulator's seeded values, computed here from data.yaml's entities and raw cells."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.google_ads.emulator import data
from metrics_connect.networks.google_ads.emulator.network import DEMO_CUSTOMER, build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from metrics_connect.sync.records import replay_demo
from tests.conftest import connect_account, serving
from tests.networks.google_ads import test_widgets
from tests.networks.google_ads.test_widgets import NOW, PERIODS, Connected, raw_cells
from tests.networks.widgets import Periods, get_data

# The widget tests' emulator and connected integration (fixtures).
network, connected = test_widgets.network, test_widgets.connected

QUALITY = "metrics.historical_quality_score"
ENUMS = [f"metrics.{name}" for name in data.QUALITY["components"]]


def custom(wid: str, component: str, metrics: list[str], dimensions: list[str] = ()) -> Any:
    return {
        "id": wid,
        "reference_key": "gads:custom",
        "component": component,
        "metrics": metrics,
        "dimensions": list(dimensions),
    }


def table(body: dict[str, Any]) -> dict[str, list[Any]]:
    """A datatable's rows by their first cell (the Total row left out)."""
    return {r[0]: r[1:] for r in body["values"] if r[0] != "Total"}


def keyword_cells(start: date, end: date) -> list[data.Cell]:
    """keyword_view's cells: the search campaigns' keywords."""
    cells = raw_cells(start, end, "keyword")
    return [c for c in cells if c.entities["campaign"]["advertising_channel_type"] == "SEARCH"]


async def test_targeting_location_names_each_campaigns_location_criteria(
    connected: Connected,
) -> None:
    widgets = [
        custom("t", "datatable_v1", ["targeting_location", "metrics.clicks"], ["campaign"]),
        custom("n", "number_v1", ["targeting_location"]),  # a text per campaign only
    ]
    result = await connected.get_data(widgets, comparison=False)
    assert result["n"]["error"]["code"] == "unsupported_combination"
    rows = table(result["t"])
    currency = data.CUSTOMERS[DEMO_CUSTOMER]["currency"]
    expected = {}
    for camp in data.CAMPAIGNS[DEMO_CUSTOMER]:
        criteria = camp["raw"].get("locations") or data.DEFAULT_LOCATIONS[currency]
        names = [data.GEO_TARGETS[t][0] + (" (excluded)" if neg else "") for t, neg in criteria]
        expected[camp["name"]] = "; ".join(names)
    assert {name: row[0] for name, row in rows.items()} == expected
    assert result["t"]["values"][-1][:2] == ["Total", None]  # no account-wide text
    assert expected["Search - Specialty Beans"] == (
        "State of Sao Paulo; State of Rio de Janeiro; Campinas (excluded)"
    )
    # One criteria query (no date: criteria have no history) and one naming query.
    calls = connected.sandbox.controls.calls.by_endpoint
    assert calls["googleAds.searchStream"] >= 3


async def test_quality_score_is_the_keywords_impressions_weighted_average(
    connected: Connected,
) -> None:
    """The account's and each keyword's score: sum of score x impressions over the
    impressions that had a score, from each keyword-day's seeded score; the components
    are each keyword's bucket of its last day in the period, and have no account figure."""
    widgets = [
        custom("n", "number_v1", [QUALITY]),
        custom("k", "datatable_v1", [QUALITY, *ENUMS, "metrics.impressions"], ["keyword_view"]),
        custom("e", "number_v1", [ENUMS[0]]),
        custom("d", "chart_v1", [QUALITY], ["date"]),
        custom("c", "datatable_v1", [QUALITY], ["campaign"]),
    ]
    result = await connected.get_data(widgets, comparison=False)
    weighted: dict[str, list[float]] = {}
    daily: dict[Any, list[float]] = {}
    campaigns: dict[Any, list[float]] = {}
    last: dict[str, tuple[date, dict[str, Any]]] = {}
    for cell in keyword_cells(PERIODS.start, PERIODS.end):
        keyword, day = cell.entities["keyword"], date.fromisoformat(cell.entities["date"]["value"])
        quality = data.quality(keyword, day)
        parts = weighted.setdefault(keyword["text"], [0.0, 0.0])
        if "historical_quality_score" in quality:
            impressions = cell.values["impressions"]
            parts[0] += int(quality["historical_quality_score"]) * impressions
            parts[1] += impressions
            for key, table_parts in ((day, daily), (cell.entities["campaign"]["name"], campaigns)):
                own = table_parts.setdefault(key, [0.0, 0.0])
                own[0] += int(quality["historical_quality_score"]) * impressions
                own[1] += impressions
        if day >= last.get(keyword["text"], (date.min, {}))[0]:
            last[keyword["text"]] = (day, quality)
    account = sum(p[0] for p in weighted.values()) / sum(p[1] for p in weighted.values())
    assert abs(result["n"]["values"] - account) < 1e-4
    assert 1 <= result["n"]["values"] <= 10
    rows = table(result["k"])
    assert set(rows) == set(weighted)
    for text, (score_x, scored) in weighted.items():
        row = rows[text]
        if not scored:  # too little traffic: no score, no buckets
            assert row[:4] == [None, None, None, None], row
            continue
        assert abs(row[0] - score_x / scored) < 1e-4, text
        assert row[1:4] == [last[text][1][name] for name in data.QUALITY["components"]], text
    assert rows["acme cafe"][4] > 0  # it had impressions, only no score
    assert result["e"]["error"]["code"] == "unsupported_combination"
    by_campaign = {name: row[0] for name, row in table(result["c"]).items()}
    assert by_campaign == {n: pytest.approx(x / s, abs=1e-4) for n, (x, s) in campaigns.items()}
    # By day: each day's own average over its keywords.
    chart = result["d"]
    series = dict(zip(chart["labels"], chart["values"][0]["data"], strict=True))
    assert len(series) == PERIODS.days
    for day, (score_x, scored) in daily.items():
        assert abs(series[day.isoformat()] - score_x / scored) < 1e-4, day


async def test_interaction_event_types_are_the_periods_kinds_of_interactions(
    connected: Connected,
) -> None:
    widgets = [
        custom("n", "number_v1", ["metrics.interaction_event_types"]),
        custom("c", "datatable_v1", ["metrics.interaction_event_types"], ["campaign"]),
        custom("g", "datatable_v1", ["metrics.interaction_event_types"], ["ad_group"]),
    ]
    result = await connected.get_data(widgets, comparison=False)
    parts = {"CLICK": "clicks", "ENGAGEMENT": "engagements", "VIDEO_VIEW": "video_trueview_views"}

    def kinds(cells: list[data.Cell]) -> str:
        return ", ".join(k for k, part in parts.items() if sum(c.values[part] for c in cells))

    cells = raw_cells(PERIODS.start, PERIODS.end)
    assert result["n"]["values"] == kinds(cells) == "CLICK, ENGAGEMENT, VIDEO_VIEW"
    for wid, entity in (("c", "campaign"), ("g", "ad_group")):
        names = {c.entities[entity]["name"] for c in cells}
        expected = {
            name: kinds([c for c in cells if c.entities[entity]["name"] == name]) for name in names
        }
        assert {name: row[0] for name, row in table(result[wid]).items()} == expected
    assert table(result["c"])["Search - Brand"] == ["CLICK"]


async def test_optimization_uplift_and_page_are_todays(connected: Connected) -> None:
    """Asked for a period that ends today: the customer's and each campaign's figures now
    (uplift in points, Google's fraction x 100); a paused campaign has no uplift or page."""
    names = ["metrics.optimization_score_uplift", "metrics.optimization_score_url"]
    widgets = [
        custom("n", "number_v1", names[:1]),
        custom("u", "number_v1", names[1:]),
        custom("c", "datatable_v1", names, ["campaign"]),
    ]
    today = NOW.date()  # 12:00 in Sao Paulo
    result = await get_data(
        connected.client,
        connected.headers,
        connected.integration_uuid,
        widgets,
        Periods(today, days=7),
        comparison=False,
    )
    now = data.optimization(DEMO_CUSTOMER, None, today)
    assert abs(result["n"]["values"] - 100 * now["optimization_score_uplift"]) < 1e-4
    assert result["u"]["values"] == now["optimization_score_url"]
    rows = table(result["c"])
    for camp in data.CAMPAIGNS[DEMO_CUSTOMER]:
        figures = data.optimization(DEMO_CUSTOMER, camp, today)
        uplift, url = rows[camp["name"]]
        assert abs(uplift - 100 * figures["optimization_score_uplift"]) < 1e-4
        assert url == figures.get("optimization_score_url")
    assert rows["Smart - Local Cafe"] == [0, None]


async def test_the_sync_archives_the_uplift_daily_for_past_periods(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    """The demo's replay runs the sync over the sandbox's last days: each day's uplift is
    kept, so a past period answers its last day's; before the archive, no figure (null)."""
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    settings = settings_factory(sqlite_url, google_ads_api_base_url="http://googleads.test")
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["google_ads"] = httpx.ASGITransport(app=sandbox.app)
    start = NOW - timedelta(days=3)
    account = await connect_account(runtime, "google_ads", sandbox.demo_account, connected_at=start)
    await replay_demo(runtime, account.integration_uuid, sandbox)
    clock.set_clock(lambda: NOW)
    try:
        async with serving(create_app(runtime=runtime)) as client:
            widgets = [
                custom("n", "number_v1", ["metrics.optimization_score_uplift"]),
                custom("c", "datatable_v1", ["metrics.optimization_score_uplift"], ["campaign"]),
            ]
            past = Periods(NOW.date() - timedelta(days=2), days=2)
            result = await get_data(
                client, account.headers, account.integration_uuid, widgets, past
            )
    finally:
        clock.set_clock(None)
    kept = data.optimization(DEMO_CUSTOMER, None, past.end)["optimization_score_uplift"]
    assert abs(result["n"]["values"] - 100 * kept) < 1e-4
    other = data.optimization(DEMO_CUSTOMER, None, past.end - timedelta(days=1))
    assert other["optimization_score_uplift"] != kept  # a day's own, not today's
    assert result["n"]["comparison"]["values"] is None, result  # before the first kept day
    rows = table(result["c"])
    for camp in data.CAMPAIGNS[DEMO_CUSTOMER]:
        figures = data.optimization(DEMO_CUSTOMER, camp, past.end)
        assert abs(rows[camp["name"]][0] - 100 * figures["optimization_score_uplift"]) < 1e-4
