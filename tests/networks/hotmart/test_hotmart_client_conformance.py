"""hotmart-python (an SDK built from Hotmart's docs; Hotmart publishes none; real HTTP on
loopback) against the emulator and its token endpoint: the client-credentials token
asked with Basic auth and query parameters, the sales history paged by `page_token` to
the end and matching the raw purchases, the default listing (APPROVED and COMPLETE
only), the summary per currency, commissions, and Hotmart's error bodies as the SDK's
exceptions (an expired token asked again)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import hotmart._auth
import hotmart._config
import pytest
from hotmart import BadRequestError, Hotmart, RateLimitError

from metrics_connect.networks.hotmart.emulator.data import SalesData
from metrics_connect.networks.hotmart.emulator.network import build_oauth
from metrics_connect.networks.registry import oauth_provider
from metrics_connect.sandbox.kit.oauth_server import sandbox_client
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork, build_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
START = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
END = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SandboxNetwork, Any]]:
    sandbox = build_sandbox("hotmart")
    sandbox.controls.clock.set(NOW)
    provider = oauth_provider("hotmart_login")
    assert provider is not None
    oauth = build_oauth(provider.spec)
    api_server = serve_in_background(sandbox.app, lifespan="off")
    oauth_server = serve_in_background(oauth.app, lifespan="off")
    # The SDK's hosts are constants: pointed at the loopback servers.
    patch = pytest.MonkeyPatch()
    payments = f"{api_server.base_url}/payments/api/v1"
    patch.setitem(
        hotmart._config.BASE_URLS,
        "prod",
        {**hotmart._config.BASE_URLS["prod"], "payments": payments},
    )
    patch.setattr(hotmart._auth, "AUTH_URL", f"{oauth_server.base_url}/security/oauth/token")
    try:
        yield sandbox, oauth
    finally:
        patch.undo()
        api_server.stop()
        oauth_server.stop()


def client(secret: str | None = None) -> Hotmart:
    client_id, client_secret = sandbox_client("hotmart_login")
    secret = secret or client_secret
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return Hotmart(client_id=client_id, client_secret=secret, basic=basic, max_retries=0)


def raw(sandbox: SandboxNetwork, statuses: set[str]) -> dict[str, dict[str, Any]]:
    data: SalesData = sandbox.data
    window = data.window(
        datetime.fromtimestamp(START / 1000, tz=UTC),
        datetime.fromtimestamp(END / 1000, tz=UTC),
        NOW,
    )
    return {p["transaction"]: p for p in window if p["status"] in statuses}


def test_the_history_pages_to_the_end_and_matches_the_raw_purchases(
    served: tuple[SandboxNetwork, Any],
) -> None:
    sandbox, _ = served
    sdk = client()
    first = sdk.sales.history(start_date=START, end_date=END, max_results=50)
    assert first.page_info is not None and first.page_info.next_page_token
    listed = list(sdk.sales.history_autopaginate(start_date=START, end_date=END, max_results=50))
    expected = raw(sandbox, {"APPROVED", "COMPLETE"})  # the default listing
    assert {s.purchase.transaction for s in listed if s.purchase} == set(expected)
    assert first.page_info.total_results == len(expected) > 100
    for sale in listed[:40]:
        assert sale.purchase is not None and sale.purchase.price is not None
        mine = expected[str(sale.purchase.transaction)]
        assert sale.purchase.price.value == mine["price"]
        assert sale.purchase.price.currency_code == mine["currency"]
        assert sale.purchase.order_date == mine["order_date"]
        assert sale.product is not None and sale.product.id == mine["product_id"]
    refunded = list(
        sdk.sales.history_autopaginate(
            start_date=START, end_date=END, transaction_status="REFUNDED", max_results=500
        )
    )
    assert (
        {s.purchase.transaction for s in refunded if s.purchase}
        == set(raw(sandbox, {"REFUNDED"}))
        != set()
    )


def test_the_summary_per_currency_and_the_commissions(served: tuple[SandboxNetwork, Any]) -> None:
    sandbox, _ = served
    sdk = client()
    summary = sdk.sales.summary(start_date=START, end_date=END)
    expected = raw(sandbox, {"APPROVED", "COMPLETE"}).values()
    totals = {
        i.total_value.currency_code: (i.total_items, i.total_value.value)
        for i in summary.items
        if i.total_value is not None
    }
    for currency in ("BRL", "USD", "EUR"):
        mine = [p for p in expected if p["currency"] == currency]
        count, value = totals[currency]
        assert count == len(mine) and value == pytest.approx(sum(p["price"] for p in mine))
    commissions = sdk.sales.commissions(start_date=START, end_date=END, max_results=5)
    item = commissions.items[0]
    producer = item.commissions[0]
    assert producer.source == "PRODUCER" and producer.commission is not None
    sale = raw(sandbox, {"APPROVED", "COMPLETE"})[str(item.transaction)]
    assert producer.commission.value == pytest.approx(sale["price"] - sale["fee"])
    assert producer.commission.currency_value == sale["currency"]


def test_errors_as_the_sdks_exceptions(served: tuple[SandboxNetwork, Any]) -> None:
    sandbox, oauth = served
    with pytest.raises(Exception, match="401"):
        client(secret="not-it").sales.history(max_results=1)  # the token refused
    sdk = client()
    with pytest.raises(BadRequestError):
        sdk.sales.history(page_token="not-a-token")
    with pytest.raises(BadRequestError):
        sdk.sales.history(transaction_status="NOT_A_STATUS")
    # An expired token: the SDK asks a new one with its client and goes on.
    token = sdk._token_manager.get_token()
    sandbox.controls.switches.expired_tokens.add(token)
    assert sdk.sales.history(max_results=1).items
    assert sdk._token_manager.get_token() != token
    assert oauth.server.token_problem(sdk._token_manager.get_token()) is None
    sandbox.controls.switches.rate_limit_next = 1
    with pytest.raises(RateLimitError):
        sdk.sales.history(max_results=1)
