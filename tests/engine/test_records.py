"""The records kind (docs/records.md): records synced incrementally, upserted by id, deleted
ones gone, and aggregated at query time by the date field each metric names: counts by
created date, sums by close date, won/lost, conversion between stages, average ticket,
time to close, funnels, groupings, mixed currencies refused, explain's records plan."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from metrics_connect import clock
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.catalog.loader import Catalog, CatalogError, parse_catalog
from metrics_connect.connectors.base import (
    AccountInfo,
    Connector,
    ConnectorContext,
    DatasetSpec,
    FetchRequest,
    FetchResult,
    PlannedCall,
    RecordPage,
    RecordRow,
    UpstreamRateLimited,
)
from metrics_connect.engine import service as engine_service
from metrics_connect.engine.facts import FactStore
from metrics_connect.engine.records import RecordStore, parse_instant
from metrics_connect.engine.request import GetDataRequest
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings

from .conftest import bare_integration

DEALS = DatasetSpec(
    "deals",
    "records",
    (
        "amount",
        "currency",
        "stage",
        "owner",
        "owner_name",
        "pipeline",
        "won",
        "lost",
        "lost_reason",
        "created_at",
        "closed_at",
        "entered_qualified",
        "entered_won",
    ),
    fresh_seconds=600,
    record_dates=("created_at", "closed_at", "entered_qualified", "entered_won"),
    currency_field="currency",
    money_fields=("amount",),
)
DATASETS = {"deals": DEALS}

CATALOG = """
slug: toy_crm
name: Toy CRM
dimensions:
  deal: {label: Deal, kind: item, dataset: deals}
  date: {label: Date, kind: date}
  owner: {label: Owner, kind: category, field: owner_name, key_field: owner}
  pipeline: {label: Pipeline, kind: category, field: pipeline}
  reason: {label: Reason, kind: category, field: lost_reason}
  brl: {label: BRL, kind: filter, filters: [{field: currency, value: BRL}]}
metrics:
  created_deals:
    label: Created deals
    sources: [{dataset: deals, aggregation: count, date_field: created_at}]
  won_deals:
    label: Won deals
    sources: [{dataset: deals, aggregation: count, date_field: closed_at,
               filters: [{field: won, value: true}]}]
  lost_deals:
    label: Lost deals
    sources: [{dataset: deals, aggregation: count, date_field: closed_at,
               filters: [{field: lost, value: true}]}]
  closed_deals:
    label: Closed deals
    sum_of: [won_deals, lost_deals]
  win_rate:
    label: Win rate
    unit: percent
    ratio: {numerator: won_deals, denominator: closed_deals, scale: 100}
  won_revenue:
    label: Won revenue
    unit: currency
    sources: [{dataset: deals, field: amount, aggregation: sum, date_field: closed_at,
               filters: [{field: won, value: true}]}]
  average_ticket:
    label: Average ticket
    unit: currency
    sources: [{dataset: deals, field: amount, aggregation: mean, date_field: closed_at,
               filters: [{field: won, value: true}]}]
  days_to_close:
    label: Days to close
    sources: [{dataset: deals, aggregation: mean, date_field: closed_at,
               duration: {start: created_at, end: closed_at, unit: days},
               filters: [{field: won, value: true}]}]
  entered_qualified:
    label: Qualified
    sources: [{dataset: deals, aggregation: count, date_field: entered_qualified}]
  entered_won:
    label: Won
    sources: [{dataset: deals, aggregation: count, date_field: entered_won}]
  qualified_to_won:
    label: Qualified to won
    unit: percent
    ratio: {numerator: entered_won, denominator: entered_qualified, scale: 100}
widgets:
  toy_crm:funnel:
    component: pipeline_v1
    metrics: [created_deals, entered_qualified, entered_won]
    dimensions: [deal]
  toy_crm:pipelines:
    component: container_v1
    metrics: [created_deals, won_deals, won_revenue]
    dimensions: [deal, pipeline]
"""

NOW = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
TZ = "America/Sao_Paulo"


def catalog() -> Catalog:
    return parse_catalog(CATALOG, DATASETS)


def deal(
    n: int,
    *,
    created: str,
    closed: str | None = None,
    won: bool = False,
    amount: float = 100.0,
    currency: str = "BRL",
    owner: str = "o1",
    reason: str | None = None,
    qualified: str | None = None,
) -> RecordRow:
    return RecordRow(
        str(n),
        {
            "amount": amount,
            "currency": currency,
            "stage": "won" if won else ("lost" if closed else "open"),
            "owner": owner,
            "owner_name": {"o1": "Ana", "o2": "Bruno"}[owner],
            "pipeline": "default",
            "won": won,
            "lost": bool(closed) and not won,
            "lost_reason": reason,
            "created_at": created,
            "closed_at": closed,
            "entered_qualified": qualified,
            "entered_won": closed if won else None,
        },
    )


class FakeCrm(Connector):
    """A network keeping deals: each change bumps a sequence; the cursor is the last
    sequence seen; two records a page; deletions since the cursor ride the last page."""

    slug = "toy_crm"
    datasets = DATASETS

    def __init__(self) -> None:
        super().__init__(ConnectorContext("u", "1", {}, TZ, None, "", None))  # type: ignore[arg-type]
        self.deals: dict[str, tuple[int, RecordRow]] = {}
        self.deleted: dict[str, int] = {}
        self.sequence = 0
        self.calls = 0
        self.fail: Exception | None = None

    def put(self, row: RecordRow) -> None:
        self.sequence += 1
        self.deals[row.id] = (self.sequence, row)

    def delete(self, record_id: str) -> None:
        self.sequence += 1
        self.deals.pop(record_id, None)
        self.deleted[record_id] = self.sequence

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        since = int(cursor or 0)
        changed = sorted((seq, row) for seq, row in self.deals.values() if seq > since)
        page = changed[:2]
        if len(changed) > 2:
            return RecordPage([r for _, r in page], [], str(page[-1][0]), more=True)
        gone = [i for i, seq in self.deleted.items() if seq > since]
        return RecordPage([r for _, r in page], gone, str(self.sequence), more=False)

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        return [PlannedCall("GET", "/deals", {"since": cursor or "0"}, estimated=True)]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        raise AssertionError("records are not fetched by days")

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        return []

    async def account_info(self) -> AccountInfo:
        return AccountInfo("Toy", TZ, "BRL")


def seeded() -> FakeCrm:
    crm = FakeCrm()
    crm.put(
        deal(
            1,
            created="2026-03-01T12:00:00Z",
            closed="2026-03-11T12:00:00Z",
            won=True,
            amount=1000,
            qualified="2026-03-05T12:00:00Z",
        )
    )
    crm.put(
        deal(
            2,
            created="2026-03-02T12:00:00Z",
            closed="2026-03-06T12:00:00Z",
            won=True,
            amount=500,
            owner="o2",
            qualified="2026-03-03T12:00:00Z",
        )
    )
    crm.put(
        deal(
            3,
            created="2026-03-03T12:00:00Z",
            closed="2026-03-20T12:00:00Z",
            reason="price",
            qualified="2026-03-04T12:00:00Z",
        )
    )
    crm.put(deal(4, created="2026-03-04T12:00:00Z"))
    # Created in February, won in March: counted by its close date only.
    crm.put(
        deal(5, created="2026-02-10T12:00:00Z", closed="2026-03-15T12:00:00Z", won=True, amount=300)
    )
    # 01:30 UTC on March 1st is still February 28th in Sao Paulo.
    crm.put(deal(6, created="2026-03-01T01:30:00Z"))
    return crm


@pytest.fixture
async def setup(
    db_url: str, settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Runtime, CustomerIntegration, FakeCrm]]:
    runtime = Runtime.from_settings(settings_factory(db_url))
    integration_id = await bare_integration(runtime, slug="toy_crm", timezone=TZ)
    async with runtime.db.session() as session:
        integration = await session.scalar(
            select(CustomerIntegration).where(CustomerIntegration.id == integration_id)
        )
    assert integration is not None
    crm = seeded()
    toy = catalog()
    monkeypatch.setattr(engine_service, "get_catalog", lambda slug: toy)
    monkeypatch.setattr(engine_service.Engine, "connector", lambda self, integration: crm)
    clock.set_clock(lambda: NOW)
    yield runtime, integration, crm
    clock.set_clock(None)
    await runtime.db.dispose()


def request(*widgets: dict[str, Any], comparison: bool = True) -> GetDataRequest:
    body: dict[str, Any] = {
        "customer_integration": "x",
        "start": "2026-03-01",
        "end": "2026-03-31",
        "metrics": [{"id": str(i), **w} for i, w in enumerate(widgets)],
    }
    if comparison:
        body |= {"comparison_start": "2026-02-01", "comparison_end": "2026-02-28"}
    return GetDataRequest.model_validate(body)


def number(metric: str, **extra: Any) -> dict[str, Any]:
    return {
        "reference_key": f"toy_crm:{metric}",
        "component": "number_v1",
        "metrics": [metric],
        "dimensions": ["deal"],
        **extra,
    }


async def answer(runtime: Runtime, integration: CustomerIntegration, req: GetDataRequest) -> Any:
    return await engine_service.run_get_data(runtime, integration, req)


async def test_counts_sums_rates_and_durations_by_their_date_fields(setup: Any) -> None:
    runtime, integration, crm = setup
    body = await answer(
        runtime,
        integration,
        request(
            number("created_deals"),
            number("won_deals"),
            number("lost_deals"),
            number("closed_deals"),
            number("win_rate"),
            number("won_revenue"),
            number("average_ticket"),
            number("days_to_close"),
            number("qualified_to_won"),
        ),
    )
    values = [body[str(i)]["values"] for i in range(9)]
    # Created in March (account days): 1, 2, 3, 4; deal 6 was created on Feb 28th there.
    assert values[0] == 4
    assert body["0"]["comparison"]["values"] == 2  # deals 5 and 6
    assert values[1:5] == [3, 1, 4, 75.0]
    assert values[5] == 1800  # won revenue by close date: 1000 + 500 + 300
    assert values[6] == 600.0
    # Days to close of the won deals: 10, 4 and 33.
    assert values[7] == pytest.approx((10 + 4 + 33) / 3, abs=1e-4)
    # Entered won in March 3 deals, qualified 3: 100 %.
    assert values[8] == 100.0
    assert crm.calls == 3  # 6 records, two a page


async def test_funnel_groupings_and_series(setup: Any) -> None:
    runtime, integration, _ = setup
    body = await answer(
        runtime,
        integration,
        request(
            {"reference_key": "toy_crm:funnel", "component": "pipeline_v1", "metrics": []},
            {"reference_key": "toy_crm:pipelines", "component": "container_v1", "metrics": []},
            {
                "reference_key": "toy_crm:by_owner",
                "component": "datatable_v1",
                "metrics": ["won_deals", "won_revenue"],
                "dimensions": ["deal", "owner"],
            },
            {
                "reference_key": "toy_crm:won_by_day",
                "component": "chart_v1",
                "metrics": ["won_deals"],
                "dimensions": ["deal", "date"],
            },
            {
                "reference_key": "toy_crm:reasons",
                "component": "datatable_v1",
                "metrics": ["lost_deals"],
                "dimensions": ["deal", "reason"],
            },
            comparison=False,
        ),
    )
    assert body["0"]["values"] == [4, 3, 3]
    assert body["1"]["values"] == [["default", 4, 3, 1800]]
    assert body["2"]["values"] == [["Ana", 2, 1300], ["Bruno", 1, 500], ["Total", 3, 1800]]
    series = dict(zip(body["3"]["labels"], body["3"]["values"][0]["data"], strict=True))
    assert series["2026-03-11"] == 1 and series["2026-03-06"] == 1 and series["2026-03-01"] == 0
    assert sum(series.values()) == 3
    assert body["4"]["values"][0] == ["price", 1]


async def test_an_edit_counts_once_with_latest_values_and_a_deletion_is_gone(
    setup: Any,
) -> None:
    runtime, integration, crm = setup
    widgets = (number("won_revenue"), number("created_deals"))
    first = await answer(runtime, integration, request(*widgets))
    assert first["0"]["values"] == 1800 and first["1"]["values"] == 4
    # Deal 1 is edited (a bigger amount), deal 4 deleted, deal 7 created.
    crm.put(
        deal(
            1,
            created="2026-03-01T12:00:00Z",
            closed="2026-03-11T12:00:00Z",
            won=True,
            amount=1200,
            qualified="2026-03-05T12:00:00Z",
        )
    )
    crm.delete("4")
    crm.put(deal(7, created="2026-03-21T12:00:00Z"))
    calls = crm.calls
    # Fresh for 10 minutes: the store answers without asking the network.
    again = await answer(runtime, integration, request(*widgets))
    assert again == first and crm.calls == calls
    clock.set_clock(lambda: NOW + timedelta(minutes=11))
    later = await answer(runtime, integration, request(*widgets))
    assert later["0"]["values"] == 2000  # 1200 + 500 + 300: deal 1 once, latest amount
    assert later["1"]["values"] == 4  # 1, 2, 3, 7: deal 4 gone
    # Incremental: the sync asked only for what changed since its cursor (one page).
    assert crm.calls == calls + 1
    store = RecordStore(FactStore(runtime.db))
    held = await store.load(integration.id, [DEALS], TZ)
    assert sorted(r.id for r in held["deals"]) == ["1", "2", "3", "5", "6", "7"]


async def test_mixed_currencies_are_refused_and_one_currency_answers(setup: Any) -> None:
    runtime, integration, crm = setup
    crm.put(
        deal(
            8,
            created="2026-03-05T12:00:00Z",
            closed="2026-03-09T12:00:00Z",
            won=True,
            amount=50,
            currency="USD",
        )
    )
    body = await answer(
        runtime,
        integration,
        request(
            number("won_revenue"),
            number("won_revenue", reference_key="toy_crm:x", dimensions=["deal", "brl"]),
            number("won_deals"),
        ),
    )
    assert body["0"]["error"]["code"] == "mixed_currencies"
    assert "BRL, USD" in body["0"]["error"]["message"]
    assert body["1"]["values"] == 1800
    assert body["2"]["values"] == 4  # counts are not money


async def test_a_failed_first_sync_fails_its_widgets_and_stale_records_still_answer(
    setup: Any,
) -> None:
    runtime, integration, crm = setup
    crm.fail = UpstreamRateLimited("slow down", retry_after=1.0)
    body = await answer(runtime, integration, request(number("created_deals")))
    assert body["0"]["error"]["code"] == "upstream_rate_limited"
    crm.fail = None
    assert (await answer(runtime, integration, request(number("created_deals"))))["0"][
        "values"
    ] == 4
    crm.fail = UpstreamRateLimited("slow down", retry_after=1.0)
    clock.set_clock(lambda: NOW + timedelta(hours=1))
    body = await answer(runtime, integration, request(number("created_deals")))
    assert body["0"]["values"] == 4  # stale, but served


async def test_explain_shows_the_records_plan(setup: Any) -> None:
    runtime, integration, crm = setup
    req = request(number("days_to_close"))
    plan = (await engine_service.run_get_data(runtime, integration, req, explain=True))["explain"]
    assert crm.calls == 0
    assert plan["records"] == [
        {
            "dataset": "deals",
            "synced_at": None,
            "backfilled": False,
            "cursor": None,
            "sync": "missing",
            "calls": [
                {"method": "GET", "path": "/deals", "params": {"since": "0"}, "estimated": True}
            ],
        }
    ]
    assert plan["upstream_calls"] == 1 and plan["upstream_calls_estimated"] == 1
    source = plan["widgets"]["0"]["metrics"][0]["source"]
    assert source["records"]["date_field"] == "closed_at"
    assert source["records"]["duration"] == ["created_at", "closed_at", "days"]
    assert source["records"]["filters"] == [["won", "EQUAL", True]]
    await answer(runtime, integration, req)
    plan = (await engine_service.run_get_data(runtime, integration, req, explain=True))["explain"]
    assert plan["records"][0]["sync"] is None and plan["records"][0]["backfilled"]
    assert plan["upstream_calls"] == 0


def test_instants_as_networks_write_them() -> None:
    assert parse_instant("2026-03-01T01:30:00Z") == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert parse_instant(1772328600000) == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert parse_instant("1772328600000") == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert parse_instant("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_instant("") is None and parse_instant("soon") is None
    assert date(2026, 3, 1) == parse_instant("2026-03-01T00:00:00-03:00").date()  # type: ignore[union-attr]


def test_a_records_source_names_a_known_date_field() -> None:
    bad = CATALOG.replace("date_field: created_at}", "date_field: born_at}", 1)
    with pytest.raises(CatalogError, match="no date field 'born_at'"):
        parse_catalog(bad, DATASETS)
    missing = CATALOG.replace(", date_field: created_at}", "}", 1)
    with pytest.raises(CatalogError, match="needs `date_field`"):
        parse_catalog(missing, DATASETS)


def test_stored_fields_round_trip_as_json() -> None:
    row = deal(9, created="2026-03-01T12:00:00Z")
    assert json.loads(json.dumps(row.fields))["owner_name"] == "Ana"


async def test_the_scheduled_sync_backfills_then_follows_the_cursor(setup: Any) -> None:
    from metrics_connect.sync.records import sync_records

    runtime, integration, crm = setup
    outcome = await sync_records(runtime, integration, crm, NOW)
    assert outcome.ok and outcome.stored == 6
    store = RecordStore(FactStore(runtime.db))
    state = (await store.state(integration.id, ["deals"]))["deals"]
    assert state.cursor == "6" and state.synced_at == NOW and state.backfilled_at == NOW
    crm.delete("2")
    later = NOW + timedelta(hours=1)
    outcome = await sync_records(runtime, integration, crm, later)
    assert outcome.stored == 1
    state = (await store.state(integration.id, ["deals"]))["deals"]
    assert state.cursor == "7" and state.synced_at == later and state.backfilled_at == NOW
    held = await store.load(integration.id, [DEALS], TZ)
    assert "2" not in {r.id for r in held["deals"]}


class FullListing:
    """A network that lists every live record at each sync (no "modified since"), two a
    page, and says `listed_all` on the last page only when asked to."""

    def __init__(self, ids: list[str], listed_all: bool = True) -> None:
        self.ids, self.listed_all = ids, listed_all

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        page = int(cursor or 0) if cursor != "done" else 0
        chunk = self.ids[page * 2 : page * 2 + 2]
        rows = [RecordRow(i, {"created_at": "2026-03-02T12:00:00Z"}) for i in chunk]
        if page * 2 + 2 < len(self.ids):
            return RecordPage(rows, [], str(page + 1), more=True)
        return RecordPage(rows, [], "done", more=False, listed_all=self.listed_all)


async def test_a_full_listing_deletes_what_it_no_longer_lists(setup: Any) -> None:
    runtime, integration, _ = setup
    store = RecordStore(FactStore(runtime.db))
    listing = FullListing(["a", "b", "c", "d", "e"])
    first = await store.sync(integration.id, listing, DEALS, timezone=TZ, now=lambda: NOW)  # type: ignore[arg-type]
    assert (first.pages, first.upserted, first.deleted) == (3, 5, 0)
    listing.ids = ["a", "c", "e", "f"]
    later = NOW + timedelta(hours=1)
    second = await store.sync(integration.id, listing, DEALS, timezone=TZ, now=lambda: later)  # type: ignore[arg-type]
    assert second.deleted == 2
    held = await store.load(integration.id, [DEALS], TZ)
    assert sorted(r.id for r in held["deals"]) == ["a", "c", "e", "f"]
    # Without `listed_all` (a listing resumed mid-way), nothing unlisted is deleted.
    listing.ids, listing.listed_all = ["a"], False
    third = await store.sync(
        integration.id, listing, DEALS, timezone=TZ, now=lambda: later + timedelta(hours=1)
    )  # type: ignore[arg-type]
    assert third.deleted == 0
    held = await store.load(integration.id, [DEALS], TZ)
    assert sorted(r.id for r in held["deals"]) == ["a", "c", "e", "f"]
