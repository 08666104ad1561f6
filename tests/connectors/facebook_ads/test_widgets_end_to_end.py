"""Every predefined Meta Ads widget through POST /metrics/get-data on an integration
connected to the emulator, figures checked against the emulator's raw truth, entity
and breakdown filters, and restatement inside and outside the attribution window."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.facebook_ads.emulator.app import FacebookAdsEmulator
from metrics_connect.networks.facebook_ads.emulator.entities import ADS, CAMPAIGNS, CAMPAIGNS_BY_ID
from metrics_connect.networks.facebook_ads.emulator.network import build_sandbox, emulator_of
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.accounts import AD_ACCOUNT_ID
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving

REFERENCE = Path("/work/shared/reference/reportei-connect/facebook_ads/metrics.json")
NOW = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
END = date(2026, 1, 15)  # the last 90 days, today included (the account's state is today's)
START = END - timedelta(days=89)
COMPARISON_END = START - timedelta(days=1)
COMPARISON_START = COMPARISON_END - timedelta(days=89)
CAMPAIGN = "120200000000000105"


def reference_widgets() -> list[dict[str, Any]]:
    if not REFERENCE.exists():
        pytest.skip("the shared reference payloads are not on this machine")
    widgets: list[dict[str, Any]] = json.loads(REFERENCE.read_text())["widgets"]
    return widgets


class SharedClock:
    """One now for the service and the emulator, moved together."""

    def __init__(self, network: SandboxNetwork, start: datetime) -> None:
        self.network = network
        self.current = start
        network.controls.clock.set(start)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
        self.network.controls.clock.set(self.current)


@dataclass
class AdsConnected:
    client: httpx.AsyncClient
    headers: dict[str, str]
    integration_uuid: str
    network: SandboxNetwork
    clock: SharedClock

    @property
    def emulator(self) -> FacebookAdsEmulator:
        return emulator_of(self.network)

    @property
    def calls(self) -> int:
        return self.network.controls.calls.total

    async def get_data(
        self,
        widgets: list[dict[str, Any]],
        start: date = START,
        end: date = END,
        comparison: bool = True,
    ) -> Any:
        body: dict[str, Any] = {
            "customer_integration": self.integration_uuid,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "metrics": widgets,
        }
        if comparison:
            body["comparison_start"] = COMPARISON_START.isoformat()
            body["comparison_end"] = COMPARISON_END.isoformat()
        response = await self.client.post("/metrics/get-data", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def number(self, widget: dict[str, Any], start: date = START, end: date = END) -> Any:
        body = await self.get_data(
            [{"id": "w", "component": "number_v1", **widget}], start, end, False
        )
        assert "error" not in body["w"], body["w"]
        return body["w"]["values"]


@pytest.fixture
def network() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
def shared_clock(network: SandboxNetwork) -> Iterator[SharedClock]:
    fake = SharedClock(network, NOW)
    clock.set_clock(fake)
    yield fake
    clock.set_clock(None)


@pytest.fixture
async def ads(
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
    network: SandboxNetwork,
    shared_clock: SharedClock,
) -> AsyncIterator[AdsConnected]:
    settings = settings_factory(
        sqlite_url,
        facebook_ads_api_base_url="http://graph.test",
        # The in-process emulator computes every breakdown of 180 days on the test
        # machine's CPU, on the service's own event loop.
        request_time_budget_seconds=120.0,
    )
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["facebook_ads"] = httpx.ASGITransport(app=network.app)
    app = create_app(runtime=runtime)
    async with serving(app) as client:
        account = await connect_account(runtime, "facebook_ads", network.demo_account)
        yield AdsConnected(client, account.headers, account.integration_uuid, network, shared_clock)


async def test_every_predefined_widget_answers_with_a_comparison(ads: AdsConnected) -> None:
    widgets = reference_widgets()
    assert len(widgets) == 318
    requested = [{"id": f"w{i}", **w} for i, w in enumerate(widgets)]
    body: dict[str, Any] = {}
    for start in range(0, len(requested), 200):
        body.update(await ads.get_data(requested[start : start + 200]))
    failed = {w["reference_key"]: body[w["id"]] for w in requested if "error" in body[w["id"]]}
    assert failed == {}
    for widget in requested:
        answer = body[widget["id"]]
        if widget["component"] == "number_v1":
            assert "values" in answer and "comparison" in answer, widget["reference_key"]
    by_key = {w["reference_key"]: body[w["id"]] for w in requested}
    truth = ads.emulator.data.period_totals(START, END)
    assert by_key["fb_ads:spend"]["values"] == pytest.approx(truth["spend"] / 100)
    assert by_key["fb_ads:reach"]["values"] == truth["reach"]
    assert by_key["fads:account_currency"]["values"] == "BRL"
    assert by_key["fb_ads:spend_by_date"]["labels"][0] == START.isoformat()
    assert len(by_key["fb_ads:spend_by_date"]["labels"]) == 90


async def test_cpc_and_ctr_from_summed_parts(ads: AdsConnected) -> None:
    truth = ads.emulator.data.period_totals(START, END)
    cpc = await ads.number({"reference_key": "fb_ads:cpc", "metrics": ["cpc"]})
    ctr = await ads.number({"reference_key": "fb_ads:ctr", "metrics": ["ctr"]})
    assert cpc == pytest.approx(truth["spend"] / 100 / truth["clicks"], abs=1e-4)
    assert ctr == pytest.approx(truth["clicks"] * 100 / truth["impressions"], abs=1e-4)
    # Not the mean of daily CPCs.
    days = [
        ads.emulator.data.period_totals(START + timedelta(days=i), START + timedelta(days=i))
        for i in range(90)
    ]
    mean_daily = sum(d["spend"] / 100 / d["clicks"] for d in days) / len(days)
    assert abs(mean_daily - cpc) > 1e-3


async def test_an_actions_total(ads: AdsConnected) -> None:
    truth = ads.emulator.data.period_totals(START, END)
    value = await ads.number({"reference_key": "x", "metrics": ["actions:landing_page_view"]})
    assert value == truth["a:landing_page_view"]
    cost = await ads.number({"reference_key": "x", "metrics": ["spend:landing_page_view"]})
    assert cost == pytest.approx(truth["spend"] / 100 / truth["a:landing_page_view"], abs=1e-4)


async def test_publisher_platform_in_filter(ads: AdsConnected) -> None:
    instagram = {"field": "publisher_platform", "operator": "IN", "value": ["instagram"]}
    truth = ads.emulator.data.period_totals(START, END, where={"publisher_platform": ["instagram"]})
    clicks = await ads.number(
        {"reference_key": "x", "metrics": ["clicks"], "dimensions": [instagram]}
    )
    reach = await ads.number(
        {"reference_key": "x", "metrics": ["reach"], "dimensions": [instagram]}
    )
    assert (clicks, reach) == (truth["clicks"], truth["reach"])
    both = {"field": "publisher_platform", "operator": "IN", "value": ["facebook", "instagram"]}
    two = ads.emulator.data.period_totals(
        START, END, where={"publisher_platform": ["facebook", "instagram"]}
    )
    spend = await ads.number({"reference_key": "x", "metrics": ["spend"], "dimensions": [both]})
    assert spend == pytest.approx(two["spend"] / 100)
    # Unique reach over two platforms is Meta's own count with the filter applied (its
    # `filtering` parameter), not a sum of each platform's reach rows.
    widget = {"id": "w", "component": "number_v1", "reference_key": "x"}
    widget |= {"metrics": ["reach"], "dimensions": [both]}
    body = {"customer_integration": ads.integration_uuid, "metrics": [widget]}
    body |= {"start": START.isoformat(), "end": END.isoformat()}
    plan = await ads.client.post(
        "/metrics/get-data", params={"explain": "true"}, json=body, headers=ads.headers
    )
    (fetch,) = [f for f in plan.json()["explain"]["fetches"] if f["dataset"] == "insights_period"]
    assert "publisher_platform" not in fetch["calls"][0]["params"].get("breakdowns", "")
    assert json.loads(fetch["calls"][0]["params"]["filtering"]) == [
        {"field": "publisher_platform", "operator": "IN", "value": ["facebook", "instagram"]}
    ]
    del widget["id"], widget["component"]
    assert await ads.number(widget) == two["reach"]


async def test_entity_filter_answers_that_campaign_only(ads: AdsConnected) -> None:
    ad_ids = [a.id for a in ADS if a.campaign_id == CAMPAIGN]
    truth = ads.emulator.data.period_totals(START, END, ad_ids=ad_ids)
    widget = {"entity_id": CAMPAIGN, "entity_type": "campaign"}
    spend = await ads.number({"reference_key": "fb_ads:spend", "metrics": ["spend"], **widget})
    reach = await ads.number({"reference_key": "fb_ads:reach", "metrics": ["reach"], **widget})
    assert spend == pytest.approx(truth["spend"] / 100)
    assert reach == truth["reach"]
    body = await ads.get_data(
        [
            {
                "id": "known",
                "reference_key": "fb_ads:spend",
                "component": "number_v1",
                "metrics": ["spend"],
            },
            {
                "id": "unknown",
                "reference_key": "fb_ads:spend",
                "component": "number_v1",
                "metrics": ["spend"],
                "entity_id": "404404",
                "entity_type": "campaign",
            },
        ],
        comparison=False,
    )
    assert "error" not in body["known"]
    assert body["unknown"]["error"]["code"] == "upstream_error"
    assert "404404" in body["unknown"]["error"]["message"]


async def test_restatement_inside_the_window_refetches_settled_days_never(
    ads: AdsConnected,
) -> None:
    recent = END - timedelta(days=5)  # inside the 28-day attribution window
    settled = END - timedelta(days=60)
    widget = {"reference_key": "fb_ads:spend", "metrics": ["spend"]}
    first_recent = await ads.number(widget, recent, recent)
    first_settled = await ads.number(widget, settled, settled)
    ads.emulator.data.restate(recent, 1.5)
    ads.emulator.data.restate(settled, 1.5)
    calls = ads.calls
    assert await ads.number(widget, recent, recent) == first_recent  # still fresh
    assert await ads.number(widget, settled, settled) == first_settled
    assert ads.calls == calls  # nothing fetched
    ads.clock.advance(timedelta(hours=1))  # freshness (30 minutes) expired
    restated = await ads.number(widget, recent, recent)
    assert restated == pytest.approx(first_recent * 1.5, abs=0.05)
    after_recent = ads.calls
    assert after_recent > calls
    assert await ads.number(widget, settled, settled) == first_settled  # settled: never refetched
    assert ads.calls == after_recent


async def test_campaigns_of_the_same_name_stay_two_rows(
    ads: AdsConnected, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A campaign duplicated under the same name (common in Ads Manager): rows are kept
    per campaign id and both carry the name."""
    first, second = [c for c in CAMPAIGNS if c.stop is None][:2]
    monkeypatch.setitem(CAMPAIGNS_BY_ID, second.id, replace(second, name=first.name))
    table = (
        await ads.get_data(
            [
                {"id": "t", "reference_key": "x", "component": "datatable_v1"}
                | {"metrics": ["spend"], "dimensions": ["campaign"]}
            ],
            comparison=False,
        )
    )["t"]
    rows = [row for row in table["values"] if row[0] == first.name]
    assert len(rows) == 2
    spends = sorted(row[1] for row in rows)
    truth = sorted(
        ads.emulator.data.period_totals(
            START, END, ad_ids=[a.id for a in ADS if a.campaign_id == c.id]
        )["spend"]
        / 100
        for c in (first, second)
    )
    assert spends == pytest.approx(truth)


async def test_an_action_type_that_never_occurred_sums_to_zero(ads: AdsConnected) -> None:
    """Meta lists only the action types that occurred: a day without check-ins is a day
    of 0 check-ins (docs/meta-ads.md), in a number and on every day of a chart."""
    number = {"reference_key": "fb_ads:actions_checkin", "metrics": ["actions:checkin"]}
    number |= {"id": "n", "component": "number_v1"}
    chart = {"id": "c", "reference_key": "x", "component": "chart_v1"}
    chart |= {"metrics": ["actions:checkin"], "dimensions": ["date"]}
    body = await ads.get_data([number, chart])
    assert body["n"]["values"] == 0
    assert body["n"]["comparison"] == {"values": 0, "difference": None, "absoluteDifference": 0}
    assert body["c"]["values"][0]["data"] == [0] * 90
    assert body["c"]["comparison"]["values"][0]["data"] == [0] * 90


async def test_action_totals_as_a_number_match_the_table_by_action_type(
    ads: AdsConnected,
) -> None:
    table = {"id": "t", "reference_key": "x", "component": "datatable_v1"}
    table |= {"metrics": ["actions", "action_values"], "dimensions": ["action_type"]}
    body = await ads.get_data([table], comparison=False)
    total = body["t"]["values"][-1]
    assert total[0] == "Total" and total[2] > 0
    actions = await ads.number({"reference_key": "x", "metrics": ["actions"]})
    values = await ads.number({"reference_key": "fads:action_values", "metrics": ["action_values"]})
    assert actions == total[1]
    assert values == pytest.approx(total[2], abs=0.01)


async def test_a_text_attribute_has_no_numeric_comparison(ads: AdsConnected) -> None:
    widget = {"id": "a", "reference_key": "fads:account_id", "component": "number_v1"}
    body = await ads.get_data([widget | {"metrics": ["account_id"]}])
    assert body["a"] == {
        "values": AD_ACCOUNT_ID.removeprefix("act_"),
        "comparison": {
            "values": AD_ACCOUNT_ID.removeprefix("act_"),
            "difference": None,
            "absoluteDifference": None,
        },
    }
