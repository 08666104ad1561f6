"""The Google Ads connector on the emulator: the GAQL it asks, money and days in the
customer's own terms, conversions restated until they settle, the manager header, and
every GoogleAdsFailure mapped to what it means for the integration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect.connectors.base import (
    ConnectorContext,
    FetchRequest,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
)
from metrics_connect.networks.google_ads.connector.hooks import GoogleAdsConnector
from metrics_connect.networks.google_ads.emulator import data
from metrics_connect.networks.google_ads.emulator.network import build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
TODAY = date(2026, 12, 3)  # in Sao Paulo and in Berlin


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    return build_sandbox()


def connector_on(
    network: SandboxNetwork, http: httpx.AsyncClient, now: datetime = NOW, **overrides: Any
) -> GoogleAdsConnector:
    account = network.demo_account
    credentials = {**account.credentials, **overrides.pop("credentials", {})}
    ctx = ConnectorContext(
        integration_uuid="gads",
        external_id=overrides.pop("external_id", account.external_id),
        credentials=credentials,
        timezone=overrides.pop("timezone", account.timezone),
        http=http,
        settings=Settings(upstream_retry_budget_seconds=2.0, **overrides),
        base_url="http://googleads.test",
    )
    return GoogleAdsConnector(ctx, now=lambda: now)


@pytest.fixture
async def http(network: SandboxNetwork) -> AsyncIterator[httpx.AsyncClient]:
    network.controls.clock.set(NOW)
    network.controls.switches.rate_limit_next = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=network.app)) as client:
        yield client


def raw(cid: str, first: date, last: date, now: datetime = NOW) -> dict[str, float]:
    sums: dict[str, float] = {}
    day = first
    while day <= last:
        for cell in data.cells(cid, day, now, None, by_device=False):
            for name, value in cell.values.items():
                sums[name] = sums.get(name, 0.0) + value
        day += timedelta(days=1)
    return sums


async def test_daily_rows_in_the_customers_currency(
    network: SandboxNetwork, http: httpx.AsyncClient
) -> None:
    connector = connector_on(network, http)
    first, last = TODAY - timedelta(days=20), TODAY - timedelta(days=1)
    result = await connector.fetch(FetchRequest("customer_daily", first, last))
    assert {r.day for r in result.rows} == {first + timedelta(days=i) for i in range(20)}
    expected = raw("1234567890", first, last)
    assert sum(r.values["cost"] for r in result.rows) == pytest.approx(
        expected["cost_micros"] / 1_000_000
    )
    assert sum(r.values["clicks"] for r in result.rows) == expected["clicks"]
    info = await connector.account_info()
    assert (info.currency, info.timezone) == ("BRL", "America/Sao_Paulo")
    plan = connector.plan_calls(FetchRequest("campaign_daily", first, last, ("campaign_id",)))
    assert plan[0].path == "/v26/customers/1234567890/googleAds:searchStream"
    assert plan[0].params["query"].startswith("SELECT campaign.id, ")
    assert "segments.date BETWEEN '2026-11-13' AND '2026-12-02'" in plan[0].params["query"]


async def test_conversions_are_restated_until_they_settle(
    network: SandboxNetwork, http: httpx.AsyncClient
) -> None:
    """A day's conversions grow as late ones are attributed; the last 14 days stay
    unsettled (datasets' settle_after_days) and a later fetch sees the new figure."""
    day = TODAY - timedelta(days=2)
    request = FetchRequest("customer_daily", day, day)
    assert connector_on(network, http).datasets["customer_daily"].settle_after_days == 14
    early = await connector_on(network, http).fetch(request)
    later_now = NOW + timedelta(days=10)
    network.controls.clock.set(later_now)
    later = await connector_on(network, http, now=later_now).fetch(request)
    before, after = early.rows[0].values, later.rows[0].values
    assert before["clicks"] == after["clicks"]
    assert 0 < float(before["conversions"]) < float(after["conversions"])
    assert after["conversions"] == pytest.approx(
        raw("1234567890", day, day, later_now)["conversions"]
    )


async def test_a_client_of_a_manager_is_asked_with_login_customer_id(
    network: SandboxNetwork, http: httpx.AsyncClient
) -> None:
    first, last = TODAY - timedelta(days=7), TODAY - timedelta(days=1)
    request = FetchRequest("customer_daily", first, last)
    euro = {"external_id": "5550001111", "timezone": "Europe/Berlin"}
    with pytest.raises(IntegrationRevoked, match="USER_PERMISSION_DENIED"):
        await connector_on(network, http, **euro).fetch(request)
    connector = connector_on(network, http, credentials={"login_customer_id": "9876543210"}, **euro)
    result = await connector.fetch(request)
    assert sum(r.values["cost"] for r in result.rows) == pytest.approx(
        raw("5550001111", first, last)["cost_micros"] / 1_000_000
    )
    assert (await connector.account_info()).currency == "EUR"


async def test_geo_rows_are_named_by_one_geo_target_constant_query(
    network: SandboxNetwork, http: httpx.AsyncClient
) -> None:
    connector = connector_on(network, http)
    request = FetchRequest(
        "geo_daily", TODAY - timedelta(days=3), TODAY - timedelta(days=1), ("geo_city",)
    )
    network.controls.calls.reset()
    result = await connector.fetch(request)
    assert network.controls.calls.by_endpoint["googleAds.searchStream"] == 2
    assert {r.keys["geo_city"] for r in result.rows} >= {"Sao Paulo", "Rio de Janeiro"}


@pytest.mark.parametrize(
    ("switch", "raised", "code"),
    [
        ("expired", IntegrationExpired, "authenticationError.OAUTH_TOKEN_EXPIRED"),
        ("revoked", IntegrationRevoked, "authorizationError.USER_PERMISSION_DENIED"),
    ],
)
async def test_token_failures_end_the_integration(
    network: SandboxNetwork,
    http: httpx.AsyncClient,
    switch: str,
    raised: type[UpstreamError],
    code: str,
) -> None:
    token = "sandbox-google-ads-" + switch
    target = getattr(network.controls.switches, f"{switch}_tokens")
    target.add(token)
    try:
        connector = connector_on(network, http, credentials={"access_token": token})
        with pytest.raises(raised, match=code):
            await connector.fetch(FetchRequest("customer_daily", TODAY, TODAY))
    finally:
        target.discard(token)


async def test_quota_errors_wait_their_retry_delay(
    network: SandboxNetwork, http: httpx.AsyncClient
) -> None:
    network.controls.switches.retry_after_seconds = 1
    network.controls.switches.rate_limit_next = 1
    result = await connector_on(network, http).fetch(FetchRequest("customer_daily", TODAY, TODAY))
    assert result.rows
    network.controls.switches.retry_after_seconds = 3600  # basic access: hours away
    network.controls.switches.rate_limit_next = 1
    with pytest.raises(UpstreamRateLimited) as refused:
        await connector_on(network, http).fetch(FetchRequest("customer_daily", TODAY, TODAY))
    assert refused.value.retry_after == 3600
    network.controls.switches.retry_after_seconds = 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"credentials": {"developer_token": ""}}, "DEVELOPER_TOKEN_PARAMETER_MISSING"),
        ({"google_ads_api_version": "v22"}, "GRPC target method can't be resolved"),
    ],
)
async def test_configuration_failures_are_bad_requests_not_expiries(
    network: SandboxNetwork, http: httpx.AsyncClient, overrides: dict[str, Any], message: str
) -> None:
    connector = connector_on(network, http, **overrides)
    with pytest.raises(UpstreamError, match=message) as refused:
        await connector.fetch(FetchRequest("customer_daily", TODAY, TODAY))
    assert type(refused.value) is UpstreamError


async def test_conversion_segments_go_only_with_conversion_metrics(
    network: SandboxNetwork, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        "http://googleads.test/v26/customers/1234567890/googleAds:searchStream",
        headers={"Authorization": "Bearer sandbox-x", "developer-token": "t"},
        json={
            "query": "SELECT segments.conversion_action_category, metrics.clicks FROM customer "
            "WHERE segments.date DURING LAST_7_DAYS"
        },
    )
    assert response.status_code == 400
    error = response.json()[0]["error"]["details"][0]["errors"][0]
    assert error["errorCode"] == {
        "queryError": "PROHIBITED_SEGMENT_WITH_METRIC_IN_SELECT_OR_WHERE_CLAUSE"
    }
