"""Every predefined Business Profile widget through POST /metrics/get-data on an
integration connected to the emulator, and figures checked against the emulator's raw
daily values."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.engine.facts import FactStore
from metrics_connect.networks.google_my_business.emulator.data import ProfileData
from metrics_connect.networks.google_my_business.emulator.network import build_sandbox
from metrics_connect.networks.google_my_business.sync.demo import prepare_demo
from metrics_connect.settings import Settings
from metrics_connect.sync.service import load_integration, run_sync
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import Periods, numbered, reference_widget, widget_errors
from tests.networks.widgets import reference_widgets as shared_widgets

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 12:00 in Sao Paulo
# The last 90 days: the most recent ones have no Performance figures yet (they come late).
END = date(2026, 11, 19)
PERIODS = Periods(END)
START, COMPARISON_START, COMPARISON_END = (
    PERIODS.start,
    PERIODS.comparison_start,
    PERIODS.comparison_end,
)
VIEWS = (
    "BUSINESS_IMPRESSIONS_DESKTOP_MAPS",
    "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH",
    "BUSINESS_IMPRESSIONS_MOBILE_MAPS",
    "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
)
ACTIONS = (
    "CALL_CLICKS",
    "BUSINESS_CONVERSATIONS",
    "BUSINESS_BOOKINGS",
    "BUSINESS_DIRECTION_REQUESTS",
    "WEBSITE_CLICKS",
    "BUSINESS_FOOD_ORDERS",
)


def reference_widgets() -> list[dict[str, Any]]:
    return shared_widgets("google_my_business")


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("google_my_business", reference_key, **overrides)


@dataclass
class Connected(ConnectedNetwork):
    data: ProfileData

    def total(self, metrics: tuple[str, ...], start: date = START, end: date = END) -> int:
        return sum(
            self.day(metrics, start + timedelta(days=i)) for i in range((end - start).days + 1)
        )

    def day(self, metrics: tuple[str, ...], day: date) -> int:
        return sum(self.data.daily_value(m, day, NOW) or 0 for m in metrics)


@pytest.fixture
async def gbp(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, google_my_business_api_base_url="http://gbp.test")
    sandbox = build_sandbox()
    with frozen_clock(sandbox, NOW) as shared:
        async with connected_network(
            Connected, "google_my_business", sandbox, shared, settings, PERIODS
        ) as connected:
            yield connected


async def test_every_predefined_widget_answers_with_a_comparison(gbp: Connected) -> None:
    widgets = numbered(reference_widgets())
    assert len(widgets) == 14
    result = await gbp.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        assert body["values"] not in (None, []), w["reference_key"]
        assert body["comparison"]["values"] not in (None, []), w["reference_key"]


async def test_totals_are_sums_of_the_emulators_days(gbp: Connected) -> None:
    keys = {
        "gmb:total_views": VIEWS,
        "gmb:total_search_views": VIEWS[1::2],
        "gmb:total_map_views": VIEWS[0::2],
        "gmb:total_actions": ACTIONS,
        "gmb:total_calls_actions": ("CALL_CLICKS",),
        "gmb:total_directions_actions": ("BUSINESS_DIRECTION_REQUESTS",),
        "gmb:total_website_clicks_actions": ("WEBSITE_CLICKS",),
        "gmb:total_bookings_actions": ("BUSINESS_BOOKINGS",),
        "gmb:total_food_orders_actions": ("BUSINESS_FOOD_ORDERS",),
    }
    result = await gbp.get_data([widget(k) for k in keys])
    for key, metrics in keys.items():
        assert result[key]["values"] == gbp.total(metrics), key
        expected = gbp.total(metrics, COMPARISON_START, COMPARISON_END)
        assert result[key]["comparison"]["values"] == expected, key
    assert result["gmb:total_views"]["values"] > 0


async def test_daily_charts_follow_the_days_and_leave_late_days_empty(gbp: Connected) -> None:
    result = await gbp.get_data(
        [widget("gmb:daily_views"), widget("gmb:daily_actions"), widget("gmb:daily_searches")],
        comparison=False,
    )
    days = [START + timedelta(days=i) for i in range(90)]
    for key, metrics in (
        ("gmb:daily_views", VIEWS),
        ("gmb:daily_actions", ACTIONS),
        ("gmb:daily_searches", VIEWS[1::2]),
    ):
        chart = result[key]
        assert chart["labels"][0] == START.isoformat() and len(chart["labels"]) == 90
        served = [gbp.day(metrics, d) for d in days]
        data = chart["values"][0]["data"]
        # The Performance API has no figures for the last days yet (lag_days): zero there.
        assert [v or 0 for v in data] == served, key
        assert served[-1] == 0 and served[-5] > 0


async def test_pies_split_views_by_surface_and_searches_by_device(gbp: Connected) -> None:
    result = await gbp.get_data(
        [widget("gmb:search_maps_views"), widget("gmb:search_types_searches")], comparison=False
    )
    pie = result["gmb:search_maps_views"]
    slices = dict(zip(pie["labels"], pie["values"][0]["data"], strict=True))
    assert slices == {
        "Google Search": gbp.total(VIEWS[1::2]),
        "Google Maps": gbp.total(VIEWS[0::2]),
    }
    pie = result["gmb:search_types_searches"]
    slices = dict(zip(pie["labels"], pie["values"][0]["data"], strict=True))
    assert slices == {
        "Desktop": gbp.total(("BUSINESS_IMPRESSIONS_DESKTOP_SEARCH",)),
        "Mobile": gbp.total(("BUSINESS_IMPRESSIONS_MOBILE_SEARCH",)),
    }


async def test_the_daily_sync_archives_review_counts_for_comparisons(gbp: Connected) -> None:
    integration = await load_integration(gbp.runtime, gbp.integration_uuid)
    assert integration is not None
    instants = [NOW - timedelta(days=40), NOW - timedelta(days=10)]
    for instant in instants:
        gbp.sandbox.controls.clock.set(instant)
        outcome = await run_sync(gbp.runtime, integration, instant)
        assert outcome.ok and outcome.stored == 1
    gbp.sandbox.controls.clock.set(NOW)
    older, newer = (gbp.data.reviews(i) for i in instants)
    assert len(newer) > len(older)
    days = [i.date() for i in instants]  # 15:00 UTC is the same day in Sao Paulo
    body = {
        "customer_integration": gbp.integration_uuid,
        "start": (days[1] - timedelta(days=6)).isoformat(),
        "end": days[1].isoformat(),
        "comparison_start": (days[0] - timedelta(days=6)).isoformat(),
        "comparison_end": days[0].isoformat(),
        "metrics": [
            {"id": "count", "component": "number_v1", "metrics": ["review_count"]},
            {"id": "rating", "component": "number_v1", "metrics": ["average_rating"]},
        ],
    }
    response = await gbp.client.post("/metrics/get-data", json=body, headers=gbp.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["count"]["values"] == len(newer)
    assert result["count"]["comparison"]["values"] == len(older)
    average = round(sum(r.star_rating for r in newer) / len(newer), 1)
    assert result["rating"]["values"] == pytest.approx(average)


async def test_search_keywords_are_the_months_the_period_touches(gbp: Connected) -> None:
    body = {
        "customer_integration": gbp.integration_uuid,
        "start": "2026-09-10",
        "end": "2026-10-20",
        "metrics": [
            {
                "id": "keywords",
                "component": "datatable_v1",
                "metrics": ["search_keyword_impressions"],
                "dimensions": ["keyword"],
            }
        ],
    }
    response = await gbp.client.post("/metrics/get-data", json=body, headers=gbp.headers)
    assert response.status_code == 200, response.text
    table = response.json()["keywords"]
    rows = {row[0]: row[1] for row in table["values"] if row[0] != "Total"}
    expected = {
        k: sum(gbp.data.keyword_impressions(k, 2026, m) for m in (9, 10)) for k in gbp.data.keywords
    }
    assert rows == {k: v for k, v in expected.items() if v >= 15}
    assert len(rows) > 5


async def test_posts_list_with_their_creation_and_update_times(gbp: Connected) -> None:
    body = {
        "customer_integration": gbp.integration_uuid,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "metrics": [
            {
                "id": "posts",
                "component": "datatable_v1",
                "metrics": ["created_at", "updated_at"],
                "dimensions": ["posts"],
            },
            {"id": "count", "component": "number_v1", "metrics": ["post_count"]},
        ],
    }
    response = await gbp.client.post("/metrics/get-data", json=body, headers=gbp.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    tz = gbp.data.tz
    posted = [
        p for p in gbp.data.local_posts(NOW) if START <= p.created.astimezone(tz).date() <= END
    ]
    assert result["count"]["values"] == len(posted) > 8
    rows = [row for row in result["posts"]["values"] if row[0] != "Total"]
    assert len(rows) == len(posted)
    created = sorted(str(row[1]) for row in rows)
    expected = sorted(p.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") for p in posted)
    assert created == expected
    assert all(str(row[2]) >= str(row[1]) for row in rows)


async def test_the_demo_replays_a_review_archive_day_by_day(gbp: Connected) -> None:
    integration = await load_integration(gbp.runtime, gbp.integration_uuid)
    assert integration is not None
    async with gbp.runtime.db.session() as session:
        row = await session.get(type(integration), integration.id)
        assert row is not None
        row.connected_at = NOW - timedelta(days=20)
        await session.commit()
    await prepare_demo(gbp.runtime, gbp.integration_uuid, gbp.sandbox)
    assert gbp.sandbox.controls.clock.now() == NOW
    assert gbp.sandbox.controls.calls.by_endpoint["reviews.list"] == 21
    snapshot = await FactStore(gbp.runtime.db).load(
        integration.id, day_keys=[("reviews", "-")], start=START, end=NOW.date()
    )
    rows = snapshot.rows[("reviews", "-")]
    assert len(rows) == 21
    for archived in rows:
        assert archived.day is not None
        instant = datetime.combine(archived.day, NOW.timetz())
        assert archived.values["total_review_count"] == len(gbp.data.reviews(instant))
    # Incremental: a second replay at the same now asks nothing more.
    await prepare_demo(gbp.runtime, gbp.integration_uuid, gbp.sandbox)
    assert gbp.sandbox.controls.calls.by_endpoint["reviews.list"] == 21
