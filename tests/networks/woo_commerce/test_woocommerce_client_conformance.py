"""Conformance: WooCommerce's official Python wrapper (`woocommerce` 3.0.0) drives the
emulator as it drives a store: its URLs (`{store}/wp-json/wc/v3/...`), HTTP Basic auth
over HTTPS (or the key pair in the query), its parameters; the answers carry what the
connector reads, and the connector sees the same orders as the wrapper.

The wrapper speaks HTTPS to `https://shop.example.com`; a requests adapter carries its
requests, untouched, to the emulator served on loopback (no TLS in the sandbox). Over
plain HTTP the wrapper signs with OAuth 1.0a instead, which the connector never uses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from woocommerce import API

from metrics_connect.networks.woo_commerce.emulator.data import StoreData
from metrics_connect.sandbox.oauth.serve import RunningServer, serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.woo_commerce.conftest import NOW
from tests.networks.woo_commerce.test_connector import connector

STORE = "https://shop.example.com"


class ToLoopback(HTTPAdapter):
    """Sends the store's HTTPS requests to the emulator's loopback address as they are."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        assert request.url is not None and request.url.startswith(STORE)
        request.url = self.base_url + request.url[len(STORE) :]
        return super().send(request, **kwargs)


@pytest.fixture
def served(
    store_sandbox: SandboxNetwork, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningServer]:
    store_sandbox.controls.clock.set(NOW)
    running = serve_in_background(store_sandbox.app)
    session = requests.Session()
    session.mount(STORE, ToLoopback(running.base_url))
    monkeypatch.setattr("woocommerce.api.request", session.request)
    yield running
    running.stop()
    session.close()


def wcapi(sandbox: SandboxNetwork, **kwargs: Any) -> API:
    key = sandbox.data.spec["keys"][0]
    return API(STORE, key["consumer_key"], key["consumer_secret"], version="wc/v3", **kwargs)


@pytest.mark.parametrize("query_string_auth", [False, True])
def test_orders_with_the_wrappers_parameters_and_paging(
    store_sandbox: SandboxNetwork, served: RunningServer, query_string_auth: bool
) -> None:
    data: StoreData = store_sandbox.data
    api = wcapi(store_sandbox, query_string_auth=query_string_auth)
    params = {
        "status": "completed",
        "after": "2026-10-01T00:00:00",
        "before": "2026-11-01T00:00:00",
        "per_page": 100,
        "page": 2,
        "orderby": "id",
        "order": "asc",
    }
    response = api.get("orders", params=params)
    assert response.status_code == 200, response.text
    expected = [
        o
        for o in data.placed(NOW)
        if o.status(NOW) == "completed"
        and datetime(2026, 10, 1, tzinfo=data.zone)
        < o.created
        < datetime(2026, 11, 1, tzinfo=data.zone)
    ]
    assert int(response.headers["X-WP-Total"]) == len(expected) > 100
    assert int(response.headers["X-WP-TotalPages"]) == -(-len(expected) // 100)
    orders = response.json()
    assert [o["id"] for o in orders] == sorted(o.id for o in expected)[100:200]
    for order in orders:
        assert order["status"] == "completed"
        assert {"date_created_gmt", "date_modified_gmt", "line_items", "tax_lines"} <= set(order)
        assert {"coupon_lines", "refunds", "discount_total", "shipping_total"} <= set(order)


def test_refunds_customers_products_and_the_store(
    store_sandbox: SandboxNetwork, served: RunningServer
) -> None:
    data: StoreData = store_sandbox.data
    api = wcapi(store_sandbox)
    refunds = api.get(
        "refunds", params={"after": "2026-10-01T03:00:00", "dates_are_gmt": "true", "per_page": 100}
    )
    since = datetime(2026, 10, 1, 3, tzinfo=UTC)
    made = [r for r in data.refunds if since < r.at <= NOW]
    assert refunds.status_code == 200 and int(refunds.headers["X-WP-Total"]) == len(made)
    first = refunds.json()[0]
    order_id = int(first["_links"]["up"][0]["href"].rsplit("/", 1)[1])
    by_order = api.get(f"orders/{order_id}/refunds").json()
    assert first["id"] in {r["id"] for r in by_order}
    customers = api.get("customers", params={"include": "2,3", "per_page": 100}).json()
    assert [c["id"] for c in customers] == [2, 3]
    assert any(m["key"] == "wc_last_active" for m in customers[0]["meta_data"])
    out = api.get("products", params={"stock_status": "outofstock", "per_page": 1})
    assert int(out.headers["X-WP-Total"]) == sum(
        data.out_of_stock(p, NOW)[0] for p in data.products
    )
    assert api.get("system_status").json()["settings"]["currency"] == "BRL"


def test_the_wrapper_gets_woocommerces_errors(
    store_sandbox: SandboxNetwork, served: RunningServer
) -> None:
    key = store_sandbox.data.spec["keys"][0]
    wrong = API(STORE, key["consumer_key"], "cs_wrong", version="wc/v3")
    refused = wrong.get("orders")
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer secret is invalid.",
        "data": {"status": 401},
    }
    too_many = wcapi(store_sandbox).get("orders", params={"per_page": 101})
    assert too_many.status_code == 400 and too_many.json()["code"] == "rest_invalid_param"


async def test_the_connector_sees_the_wrappers_orders(
    store_sandbox: SandboxNetwork, served: RunningServer
) -> None:
    params = {"per_page": 100, "orderby": "id", "order": "asc", "status": "any"}
    wrapper_ids = [str(o["id"]) for o in wcapi(store_sandbox).get("orders", params=params).json()]
    woo, _ = connector(store_sandbox.app, store_sandbox.demo_account.credentials)
    page = await woo.fetch_records("orders", None)
    assert [r.id for r in page.records] == wrapper_ids
