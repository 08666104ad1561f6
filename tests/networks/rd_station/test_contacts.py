"""The leads base's widgets (fit score, interest, tags, last conversion's identifier and
source) through POST /metrics/get-data on an integration connected to the emulator, over
90 days with a comparison, against counts computed here from the emulator's raw
contacts; the records sync walking the segmentation to its last page (which says it
listed them all, so that the store drops removed contacts), one removed mid-listing left
out; the emulator's page size limit."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from metrics_connect.api.app import create_app
from metrics_connect.connectors.base import ConnectorContext
from metrics_connect.networks.rd_station.connector.hooks import RdStationConnector
from metrics_connect.networks.rd_station.emulator.leads import Conversion, Lead, LeadBase
from metrics_connect.networks.rd_station.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving
from tests.networks.connected import routed_runtime
from tests.networks.upstream import frozen_sandbox
from tests.networks.widgets import Periods, get_data, reference_widget

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/Sao_Paulo")
PERIODS = Periods(date(2026, 11, 19))
LISTING = "GET /platform/segmentations/{id}/contacts"


def day(instant: datetime) -> date:
    return instant.astimezone(ZONE).date()


def live(base: LeadBase, now: datetime = NOW) -> list[Lead]:
    return [lead for lead in base.leads if lead.live(now)]


def expected(base: LeadBase, key: str, start: date, end: date) -> Counter[str]:
    """The widget's rows computed from the raw contacts: created in the period (scores,
    tags) or last converted in it (identifier, source)."""
    counts: Counter[str] = Counter()
    for lead in live(base):
        last = lead.conversions_by(NOW)[-1]
        created = start <= day(lead.created_at) <= end
        converted = start <= day(last.at) <= end
        if key == "rdstation:fitscore" and created:
            counts[str(lead.fit)] += 1
        elif key == "rdstation:interest" and created:
            counts[str(lead.interest)] += 1
        elif key == "rdstation:tags" and created:
            counts.update(lead.tags)  # once under each of its tags
        elif key == "rdstation:last_conversion_identifiers" and converted:
            counts[last.identifier] += 1
        elif key == "rdstation:last_conversion_origin" and converted:
            counts[last.source] += 1
    return counts


@pytest.fixture
def sandbox() -> Iterator[SandboxNetwork]:
    with frozen_sandbox(build_sandbox(), NOW) as built:
        yield built


@pytest.fixture
async def api(
    sandbox: SandboxNetwork, sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[Any, dict[str, str], str]]:
    settings = settings_factory(sqlite_url, rd_station_api_base_url="http://rd.test")
    runtime = routed_runtime("rd_station", sandbox, settings)
    async with serving(create_app(runtime=runtime)) as client:
        account = await connect_account(runtime, "rd_station", sandbox.demo_account)
        yield client, account.headers, account.integration_uuid


KEYS = (
    "rdstation:fitscore",
    "rdstation:interest",
    "rdstation:tags",
    "rdstation:last_conversion_identifiers",
    "rdstation:last_conversion_origin",
)


async def test_the_contact_widgets_count_the_raw_contacts(
    api: tuple[Any, dict[str, str], str], sandbox: SandboxNetwork
) -> None:
    client, headers, uuid = api
    widgets = [reference_widget("rd_station", key) for key in KEYS]
    result = await get_data(client, headers, uuid, widgets, PERIODS, comparison=True)
    base: LeadBase = sandbox.data.leads
    for key in KEYS:
        body = result[key]
        assert "error" not in body, (key, body)
        for values, (start, end) in (
            (body["values"], (PERIODS.start, PERIODS.end)),
            (body["comparison"]["values"], (PERIODS.comparison_start, PERIODS.comparison_end)),
        ):
            rows = {row[0]: row[1] for row in values if row[0] != "Total"}
            counts = expected(base, key, start, end)
            assert rows == dict(counts) and len(counts) > 2, key
            assert [row[1] for row in values[:-1]] == sorted(rows.values(), reverse=True)
    # One walk of the whole listing per dataset, 125 contacts a page, to its last page.
    pages = math.ceil(len(live(base)) / 125)
    assert pages >= 3
    assert sandbox.controls.calls.by_endpoint[LISTING] == 2 * pages


def connector(sandbox: SandboxNetwork) -> RdStationConnector:
    ctx = ConnectorContext(
        integration_uuid="rd-station-contacts",
        external_id=sandbox.demo_account.external_id,
        credentials={"access_token": DEMO_ACCESS_TOKEN},
        timezone="America/Sao_Paulo",
        http=httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox.app), base_url="http://rd.test"
        ),
        base_url="http://rd.test",
        settings=None,
    )
    return RdStationConnector(ctx)


async def walk(rd: RdStationConnector, dataset: str) -> tuple[dict[str, Any], list[Any]]:
    rows: dict[str, Any] = {}
    pages = []
    cursor = None
    while True:
        page = await rd.fetch_records(dataset, cursor)
        pages.append(page)
        rows.update({row.id: row.fields for row in page.records})
        cursor = page.cursor
        if not page.more:
            return rows, pages


async def test_the_listing_is_walked_to_its_last_page_with_each_contacts_details(
    sandbox: SandboxNetwork,
) -> None:
    base: LeadBase = sandbox.data.leads
    rows, pages = await walk(connector(sandbox), "contacts")
    now_live = live(base)
    assert len(pages) == math.ceil(len(now_live) / 125)
    assert [p.listed_all for p in pages] == [False] * (len(pages) - 1) + [True]
    assert set(rows) == {lead.uuid for lead in now_live}
    lead = now_live[-1]
    last = lead.conversions_by(NOW)[-1]
    assert rows[lead.uuid]["fit"] == str(lead.fit)
    assert rows[lead.uuid]["interest"] == str(lead.interest)
    assert rows[lead.uuid]["lifecycle_stage"] == lead.lifecycle_stage
    assert rows[lead.uuid]["last_conversion_identifier"] == last.identifier
    assert rows[lead.uuid]["last_conversion_source"] == last.source
    tags, _ = await walk(connector(sandbox), "contact_tags")
    assert set(tags) == {f"{lead.uuid}:{tag}" for lead in now_live for tag in lead.tags}


async def test_a_contact_removed_mid_listing_is_left_out(
    sandbox: SandboxNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    base: LeadBase = sandbox.data.leads
    listed = live(base)
    gone = listed[3]
    # Removed a second ago: the listing (a minute stale) still shows it, its details 404.
    object.__setattr__(gone, "removed_at", NOW - timedelta(seconds=1))
    stale = base.members
    monkeypatch.setattr(base, "members", lambda seg, now: stale(seg, now - timedelta(minutes=1)))
    page = await connector(sandbox).fetch_records("contacts", None)
    ids = {row.id for row in page.records}
    assert gone.uuid not in ids
    assert ids == {lead.uuid for lead in listed[:125]} - {gone.uuid}


async def test_the_emulator_refuses_pages_over_125(sandbox: SandboxNetwork) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://rd.test"
    ) as http:
        answer = await http.get(
            "/platform/segmentations/1/contacts",
            params={"page_size": 126},
            headers={"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"},
        )
        assert answer.status_code == 400
        assert answer.json()["errors"]["error_type"] == "BAD_REQUEST"
        last = await http.get(
            "/platform/segmentations/1/contacts",
            params={"page_size": 125, "page": 4},
            headers={"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"},
        )
    base: LeadBase = sandbox.data.leads
    assert last.headers["pagination-total-rows"] == str(len(live(base)))
    assert len(last.json()["contacts"]) == len(live(base)) - 375


async def test_a_refused_first_sync_is_each_widgets_error(
    api: tuple[Any, dict[str, str], str], sandbox: SandboxNetwork
) -> None:
    client, headers, uuid = api
    sandbox.controls.switches.rate_limit_next = 10_000
    widgets = [reference_widget("rd_station", key) for key in KEYS]
    result = await get_data(client, headers, uuid, widgets, PERIODS, comparison=True)
    sandbox.controls.switches.rate_limit_next = 0
    assert {result[key]["error"]["code"] for key in KEYS} == {"upstream_rate_limited"}


async def test_the_last_of_many_conversions_comes_from_the_newest_first_page(
    sandbox: SandboxNetwork,
) -> None:
    base: LeadBase = sandbox.data.leads
    lead = live(base)[0]
    start = lead.created_at
    many = tuple(
        Conversion(start + timedelta(days=n), f"form-{n:02d}", f"Fonte {n}") for n in range(14)
    )
    object.__setattr__(lead, "conversions", many)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://rd.test"
    ) as http:
        path = f"/platform/contacts/{lead.uuid}/events"
        auth = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
        oldest = await http.get(path, params={"event_type": "CONVERSION"}, headers=auth)
        second = await http.get(path, params={"event_type": "CONVERSION", "page": 2}, headers=auth)
    # The API's default: 10 a page, oldest first.
    assert [e["event_identifier"] for e in oldest.json()] == [f"form-{n:02d}" for n in range(10)]
    assert len(second.json()) == 4
    page = await connector(sandbox).fetch_records("contacts", None)
    fields = {row.id: row.fields for row in page.records}[lead.uuid]
    assert (fields["last_conversion_identifier"], fields["last_conversion_source"]) == (
        "form-13",
        "Fonte 13",
    )
