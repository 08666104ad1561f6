"""GA4's call economy on the cold dashboard of its 72 predefined widgets (90 days and a
comparison; the bench asks 60): periods as date ranges of one report, fetches merged
into shared reports, five reports a batchRunReports; counted by the emulator, explained
as made, the property tokens reported; and each fetch answered as its own report would
answer it."""

# The end-to-end module's fixtures are imported, then named as parameters.
# ruff: noqa: F401, F811

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect.catalog.loader import get_catalog
from metrics_connect.connectors.base import (
    ConnectorContext,
    FetchRequest,
    FetchResult,
    UpstreamError,
)
from metrics_connect.engine.facts import FactSnapshot
from metrics_connect.engine.plan import collect_needs, make_plan
from metrics_connect.engine.request import WidgetIn
from metrics_connect.engine.resolve import resolve_widget
from metrics_connect.networks.google_analytics_4.connector.hooks import (
    GoogleAnalytics4Connector,
)
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, GA4_PROPERTY_ID, GA4_TIMEZONE
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.connectors.google_analytics_4.test_widgets_end_to_end import (
    COMPARISON_END,
    COMPARISON_START,
    END,
    NOW,
    START,
    Ga4Connected,
    frozen,
    ga4,
    network,
    reference_widgets,
)

CALL_BUDGET = 24


def dashboard(ga4: Ga4Connected) -> dict[str, Any]:
    return {
        "customer_integration": ga4.integration_uuid,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "comparison_start": COMPARISON_START.isoformat(),
        "comparison_end": COMPARISON_END.isoformat(),
        "metrics": [{"id": f"w{i}", **w} for i, w in enumerate(reference_widgets())],
    }


def cold_fetches() -> list[FetchRequest]:
    """The fetches the engine plans for the dashboard on an empty store."""
    catalog = get_catalog("google_analytics_4")
    assert catalog is not None
    widgets = [
        resolve_widget(catalog, WidgetIn(id=f"w{i}", **w))
        for i, w in enumerate(reference_widgets())
    ]
    plans = [p for w in widgets if w.error is None for p in w.sources()]
    periods = [(START, END), (COMPARISON_START, COMPARISON_END)]
    needs = collect_needs(plans, periods, END + timedelta(days=1))
    plan = make_plan(
        needs, FactSnapshot(), catalog.datasets, now=NOW, today=END + timedelta(days=1)
    )
    return [f.request for f in plan.fetches]


async def test_every_predefined_widget_answers_in_few_batched_calls_as_explained(
    ga4: Ga4Connected,
) -> None:
    body = dashboard(ga4)
    explained = await ga4.client.post(
        "/metrics/get-data?explain=true", json=body, headers=ga4.headers
    )
    plan = explained.json()["explain"]
    counter = ga4.emulator.controls.calls
    counter.reset()
    tokens_before = ga4.emulator.property_quota.buckets["tokensPerDay"].used
    response = await ga4.client.post("/metrics/get-data", json=body, headers=ga4.headers)
    assert response.status_code == 200
    made = counter.total
    assert made <= CALL_BUDGET
    assert made == plan["upstream_calls"]
    # Explain lists the calls as made: one per batch of shared reports.
    endpoints = [c["path"].rsplit(":", 1)[1] for g in plan["shared_calls"] for c in g["calls"]]
    endpoints += [c["path"].rsplit(":", 1)[1] for f in plan["fetches"] for c in f["calls"]]
    assert sorted(endpoints) == sorted(counter.by_endpoint.elements())
    assert "batchRunReports" in endpoints
    # Both periods ride in one report: no users fetch has calls of its own.
    assert all(f["calls"] == [] for f in plan["fetches"] if f["dataset"] == "users")
    answer = response.json()
    assert len(body["metrics"]) == 72
    assert {k: v["error"] for k, v in answer.items() if "error" in v} == {}
    for w in body["metrics"]:
        widget = answer[w["id"]]
        if w["component"] == "number_v1":
            assert widget["values"] is not None, w["reference_key"]
            assert widget["comparison"]["values"] is not None, w["reference_key"]
        if w["component"] == "datatable_v1":
            assert len(widget["values"]) > 1, w["reference_key"]
            assert "comparison" in widget
    # Every report's tokens, summed from its propertyQuota, as the response says.
    spent = dict(part.split("=") for part in response.headers["X-Upstream-Quota"].split(", "))
    assert int(spent["tokens"]) >= made
    assert (
        int(spent["tokens"])
        == ga4.emulator.property_quota.buckets["tokensPerDay"].used - tokens_before
    )
    again = await ga4.client.post("/metrics/get-data?explain=true", json=body, headers=ga4.headers)
    assert again.json()["explain"]["upstream_quota_last_spent"]["tokens"] == int(spent["tokens"])
    assert again.json()["explain"]["upstream_calls"] == 0


@pytest.fixture
def connector(network: SandboxNetwork, frozen: None) -> GoogleAnalytics4Connector:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=network.app))
    ctx = ConnectorContext(
        integration_uuid="ga4-economy",
        external_id=GA4_PROPERTY_ID,
        credentials={"access_token": DEMO_ACCESS_TOKEN},
        timezone=GA4_TIMEZONE,
        http=http,
        base_url="http://ga4.test",
        settings=Settings(upstream_retry_budget_seconds=1.0),
    )
    return GoogleAnalytics4Connector(ctx, now=lambda: NOW)


def same(shared: FetchResult | UpstreamError, alone: FetchResult) -> None:
    assert isinstance(shared, FetchResult), shared

    def rows(result: FetchResult) -> list[tuple[Any, ...]]:
        return sorted(
            (str(r.day), sorted(r.keys.items()), sorted(r.values.items())) for r in result.rows
        )

    assert rows(shared) == rows(alone)
    assert shared.notes == alone.notes
    assert shared.incomplete_days == alone.incomplete_days


async def test_shared_reports_answer_each_fetch_as_its_own_report(
    connector: GoogleAnalytics4Connector,
) -> None:
    requests = cold_fetches()
    assert len(requests) >= 4 * CALL_BUDGET  # a report each would blow the budget
    groups = connector.shared_groups(requests)
    assert sorted(i for g in groups for i in g) == list(range(len(requests)))
    shared: dict[int, FetchResult | UpstreamError] = {}
    for group in groups:
        members = [requests[i] for i in group]
        # A group planned alone gives one call: the coordinator's and explain's unit.
        assert len(connector.plan_shared_calls(members)) == 1
        for i, result in zip(group, await connector.fetch_shared(members), strict=True):
            shared[i] = result
    # A sample against single reports: every dataset, both periods, filters, thresholds.
    sample: dict[tuple[str, date, bool, bool], int] = {}
    for i, request in enumerate(requests):
        demographic = bool({"userAgeBracket", "userGender"} & set(request.breakdowns))
        sample.setdefault((request.dataset, request.start, demographic, bool(request.filters)), i)
    assert len(sample) >= 10
    for i in sample.values():
        same(shared[i], await connector.fetch(requests[i]))


async def test_a_failed_batch_fails_only_its_own_fetches(
    connector: GoogleAnalytics4Connector, network: SandboxNetwork
) -> None:
    requests = cold_fetches()
    group = [requests[i] for i in connector.shared_groups(requests)[0]]
    network.controls.switches.rate_limit_next = 1
    results = await connector.fetch_shared(group)
    assert all(isinstance(r, FetchResult) for r in results)  # retried within the budget
    network.controls.switches.rate_limit_ratio = 1.0
    try:
        failed = await connector.fetch_shared(group)
    finally:
        network.controls.switches.rate_limit_ratio = 0.0
    assert all(isinstance(r, UpstreamError) and r.code == "upstream_rate_limited" for r in failed)


def test_reports_respect_the_data_api_limits(connector: GoogleAnalytics4Connector) -> None:
    requests = cold_fetches()
    for call in connector.plan_shared_calls(requests):
        reports = [v for k, v in call.params.items() if k.startswith("requests[")]
        assert 1 <= len(reports) <= 5
        for report in reports:
            parts = dict(p.split("=", 1) for p in report.split("; "))
            assert len(parts["dateRanges"].split(",")) <= 4
            assert len(parts["metrics"].split(",")) <= 10
            assert len([d for d in parts["dimensions"].split(",") if d]) <= 9


class _Counting(httpx.AsyncBaseTransport):
    """The emulator's transport, counting the requests in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.now = self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_a_property_runs_at_most_ten_requests_at_once(network: SandboxNetwork) -> None:
    counting = _Counting(httpx.ASGITransport(app=network.app))
    network.controls.switches.latency_seconds = 0.05
    try:
        async with httpx.AsyncClient(transport=counting) as http:
            ctx = ConnectorContext(
                integration_uuid="ga4-concurrency",
                external_id=GA4_PROPERTY_ID,
                credentials={"access_token": DEMO_ACCESS_TOKEN},
                timezone=GA4_TIMEZONE,
                http=http,
                base_url="http://ga4.test",
                settings=Settings(upstream_retry_budget_seconds=3.0),
            )
            connector = GoogleAnalytics4Connector(ctx, now=lambda: NOW)
            body = {
                "dateRanges": [{"startDate": END.isoformat(), "endDate": END.isoformat()}],
                "metrics": [{"name": "sessions"}],
            }
            path = connector.report_path()
            answers = await asyncio.gather(
                *(connector.client.request("POST", path, {}, body) for _ in range(16))
            )
    finally:
        network.controls.switches.latency_seconds = 0.0
    assert len(answers) == 16
    assert counting.most == 10


async def test_a_shared_report_past_one_page_is_paged_on_by_offset(
    connector: GoogleAnalytics4Connector, network: SandboxNetwork
) -> None:
    requests = [r for r in cold_fetches() if r.dataset == "users" and r.breakdowns][:4]
    whole = await connector.fetch_shared(requests)
    connector.client.page_size = 7
    network.controls.calls.reset()
    paged = await connector.fetch_shared(requests)
    assert network.controls.calls.by_endpoint["runReport"] > 0  # further pages
    for one, other in zip(paged, whole, strict=True):
        assert isinstance(other, FetchResult)
        same(one, other)
