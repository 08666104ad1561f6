"""The Nuvemshop connector against the emulator: a first sync lists every order through
its payment passes and Link pages with the documented headers, the next asks only what
changed since (a refund listed again, upserted), explain's calls are the calls made,
recovered checkouts are deleted, and each upstream failure becomes the contract's error.
No official Python client exists (PyPI's `tiendanube` 1.1 is a 2013 community client
pinning requests 1.2.3 and IPython 1.0, not installable beside our pins): conformance
is checked against the documentation's own request and example orders instead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.connectors.base import (
    ConnectorContext,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamRateLimited,
)
from metrics_connect.networks.nuvem_shop.connector.hooks import NuvemShopConnector
from metrics_connect.networks.nuvem_shop.emulator.data import StoreData
from metrics_connect.networks.nuvem_shop.emulator.network import build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
API = "http://nuvemshop.test"
AGENT = "metrics-connect tests (tests@example.com)"


@pytest.fixture(scope="module")
def built() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
def sandbox(built: SandboxNetwork) -> Iterator[SandboxNetwork]:
    built.controls.clock.set(NOW)
    built.controls.switches.rate_limit_next = 0
    built.controls.calls.reset()
    clock.set_clock(lambda: built.controls.clock.now())
    yield built
    clock.set_clock(None)


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


def connector(
    sandbox: SandboxNetwork, token: str | None = None
) -> tuple[NuvemShopConnector, Recorder]:
    recorder = Recorder(sandbox.app)
    credentials = dict(sandbox.demo_account.credentials)
    if token is not None:
        credentials["access_token"] = token
    ctx = ConnectorContext(
        integration_uuid="nuvem-test",
        external_id=sandbox.demo_account.external_id,
        credentials=credentials,
        timezone=sandbox.demo_account.timezone,
        http=httpx.AsyncClient(transport=recorder, base_url=API),
        base_url=API,
        settings=SimpleNamespace(upstream_retry_budget_seconds=0.5, nuvem_shop_user_agent=AGENT),
    )
    return NuvemShopConnector(ctx), recorder


async def sync_all(
    nuvem: NuvemShopConnector, dataset: str, cursor: str | None = None
) -> tuple[dict[str, dict[str, Any]], set[str], str | None]:
    seen: dict[str, dict[str, Any]] = {}
    gone: set[str] = set()
    while True:
        page = await nuvem.fetch_records(dataset, cursor)
        seen.update({r.id: dict(r.fields) for r in page.records})
        gone |= set(page.deleted_ids)
        cursor = page.cursor
        if not page.more:
            return seen, gone, cursor


def data_of(sandbox: SandboxNetwork) -> StoreData:
    return sandbox.data  # type: ignore[no-any-return]


async def test_a_first_sync_lists_every_order_then_only_what_changed(
    sandbox: SandboxNetwork,
) -> None:
    nuvem, recorder = connector(sandbox)
    planned = nuvem.plan_record_calls("orders", None)
    seen, _, cursor = await sync_all(nuvem, "orders")
    orders = {str(o.id): o.state(NOW) for o in data_of(sandbox).orders_at(NOW)}
    assert set(seen) == set(orders) and len(seen) > 2500
    statuses = {f["payment_status"] for f in seen.values()}
    assert statuses >= {"paid", "abandoned", "refunded", "voided"}
    first = recorder.requests[0]
    assert (
        first.headers["authentication"]
        == f"bearer {sandbox.demo_account.credentials['access_token']}"
    )
    assert first.headers["user-agent"] == AGENT and "authorization" not in first.headers
    assert first.url.path == f"/2025-03/{sandbox.demo_account.external_id}/orders"
    # Explain's calls: the first page of each pass, as made.
    made = [dict(r.url.params) for r in recorder.requests if r.url.params.get("page") == "1"]
    assert [c.params for c in planned] == made and len(made) == 4
    assert len(recorder.requests) == sandbox.controls.calls.by_endpoint["GET /orders"]

    later = NOW + timedelta(days=10)
    sandbox.controls.clock.set(later)
    nuvem, recorder = connector(sandbox)
    changed, _, _ = await sync_all(nuvem, "orders", cursor)
    assert all(
        r.url.params["updated_at_min"]
        == (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
        for r in recorder.requests
    )
    expected = {
        str(o.id)
        for o in data_of(sandbox).orders_at(later)
        if o.updated(later) >= NOW - timedelta(minutes=5)
    }
    assert set(changed) == expected
    refunded = [
        i
        for i in expected
        if orders.get(i, {}).get("payment_status") == "paid"
        and changed[i]["payment_status"] == "refunded"
    ]
    assert refunded and all(changed[i]["sale"] is False for i in refunded)


async def test_line_items_and_recovered_checkouts(sandbox: SandboxNetwork) -> None:
    nuvem, _ = connector(sandbox)
    data = data_of(sandbox)
    # The first sync sees a checkout that its customer recovers before the second.
    chosen = next(
        c
        for c in data.checkouts
        if c.recovered_at is not None and NOW - timedelta(days=20) < c.created < c.recovered_at
    )
    first = chosen.created + (chosen.recovered_at - chosen.created) / 2  # type: ignore[operator]
    sandbox.controls.clock.set(first)
    seen, gone, cursor = await sync_all(nuvem, "checkouts")
    assert set(seen) == {str(c.id) for c in data.checkouts_at(first)} and not gone
    sandbox.controls.clock.set(NOW)
    again, gone, _ = await sync_all(nuvem, "checkouts", cursor)
    recovered = {
        str(c.id)
        for c in data.checkouts
        if c.recovered_at is not None
        and first < c.recovered_at <= NOW
        and c.created > NOW - timedelta(days=29)
        and str(c.id) in seen
    }
    assert str(chosen.id) in recovered and gone == recovered
    lines, _, _ = await sync_all(nuvem, "order_products")
    order = data.orders_at(NOW)[-1].state(NOW)
    for index, line in enumerate(order["products"]):
        row = lines[f"{order['id']}:{index}"]
        assert row["amount"] == pytest.approx(float(line["price"]) * line["quantity"])
        assert row["product_name"] == line["name"]


async def test_failures_become_the_contracts_errors(sandbox: SandboxNetwork) -> None:
    revoked = "sandbox-revoked-access"
    sandbox.controls.switches.revoked_tokens.add(revoked)
    with pytest.raises(IntegrationRevoked, match="permission"):
        await connector(sandbox, revoked)[0].fetch_records("orders", None)
    with pytest.raises(IntegrationExpired, match="Invalid access token"):
        await connector(sandbox, "not-a-nuvemshop-token")[0].fetch_records("orders", None)
    sandbox.controls.switches.rate_limit_next = 50
    with pytest.raises(UpstreamRateLimited) as raised:
        await connector(sandbox)[0].fetch_records("checkouts", None)
    assert raised.value.retry_after is not None
    sandbox.controls.switches.rate_limit_next = 1  # one refusal: retried within the budget
    sandbox.app.state.api.level = 0.0  # type: ignore[attr-defined]  # an empty bucket: reset 0 ms
    page = await connector(sandbox)[0].fetch_records("checkouts", None)
    assert page.records


async def test_account_info_valid_coupons_and_the_documented_request(
    sandbox: SandboxNetwork,
) -> None:
    nuvem, _ = connector(sandbox)
    info = await nuvem.account_info()
    assert (info.name, info.timezone, info.currency) == (
        "Café Aurora",
        "America/Sao_Paulo",
        "BRL",
    )
    # The documentation's own request: v1 path, the two headers, page and per_page.
    store = sandbox.demo_account.external_id
    token = sandbox.demo_account.credentials["access_token"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as http:
        documented = {"Authentication": f"bearer {token}", "User-Agent": "MyApp (name@email.com)"}
        answer = await http.get(f"{API}/v1/{store}/orders?page=2&per_page=100", headers=documented)
        assert answer.status_code == 200 and len(answer.json()) == 100
        assert 'rel="next"' in answer.headers["link"] and 'rel="last"' in answer.headers["link"]
        assert int(answer.headers["x-total-count"]) > 200
        assert answer.headers["x-rate-limit-limit"] == "40"
        anonymous = await http.get(
            f"{API}/v1/{store}/orders",
            headers={"Authentication": f"bearer {token}", "User-Agent": ""},
        )
        assert anonymous.status_code == 400  # no User-Agent
        past = await http.get(f"{API}/v1/{store}/orders?page=999", headers=documented)
        assert past.status_code == 404 and past.json()["description"].startswith("Last page is")
    # The documentation's example order (GET /orders) read as a record.
    example = {
        "id": 450789469,
        "created_at": "2008-01-10T11:00:00-05:00",
        "updated_at": "2008-01-10T11:00:00-05:00",
        "currency": "USD",
        "gateway": "paypal",
        "landing_site": "http://www.example.com?source=abc",
        "number": 1,
        "payment_status": "pending",
        "shipping": "ups",
        "shipping_status": "unshipped",
        "shipping_cost_customer": "20.00",
        "status": "open",
        "subtotal": "38.00",
        "total": "58.00",
        "products": [{"product_id": 1, "name": "Tee", "price": "19.00", "quantity": 2}],
    }
    row = nuvem._order_row(example)
    assert row.id == "450789469" and row.fields["amount"] == 58.0 and not row.fields["sale"]
    assert row.fields["items"] == 2 and row.fields["utm_source"] == "(direct)"
    result = await nuvem.fetch(
        SimpleNamespace(dataset="valid_coupons", end=NOW.date())  # type: ignore[arg-type]
    )
    valid = [c for c in data_of(sandbox).coupons_at(NOW) if c["valid"]]
    assert result.rows[0].values == {"valid_coupons": len(valid)} and valid
