"""Conformance: Pinterest's official Python SDK (pinterest-api-sdk 0.2.7 and the
generated client it ships, API v5) drives the Pinterest Ads emulator served on loopback
as it would drive api.pinterest.com/v5: the ad account and its campaigns with bookmark
paging, synchronous analytics and their limits, an asynchronous report to its file, the
error envelope; and the SDK's own refresh against the sandbox's pinterest_login."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import httpx
import pytest
from openapi_generated.pinterest_client.api.ad_accounts_api import AdAccountsApi
from openapi_generated.pinterest_client.configuration import Configuration
from openapi_generated.pinterest_client.exceptions import ApiException
from openapi_generated.pinterest_client.model.ads_analytics_create_async_request import (
    AdsAnalyticsCreateAsyncRequest,
)
from openapi_generated.pinterest_client.model.reporting_column_async import ReportingColumnAsync
from pinterest.ads.ad_accounts import AdAccount
from pinterest.client import PinterestSDKClient
from pinterest.utils.refresh_access_token import get_new_access_token

from metrics_connect.networks.pinterest_ads.emulator import data
from metrics_connect.networks.pinterest_ads.emulator.network import DEMO_ACCOUNT, build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.oauth_server import sandbox_client
from metrics_connect.sandbox.oauth import build_provider_emulator
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.connect.conftest import form_actions, hidden

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
START, END = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    built = build_sandbox()
    built.controls.clock.set(NOW)
    return built


@pytest.fixture(scope="module")
def base_url(network: SandboxNetwork) -> Iterator[str]:
    running = serve_in_background(network.app)
    yield running.base_url
    running.stop()


def client(base_url: str, token: str = DEMO_ACCESS_TOKEN) -> PinterestSDKClient:
    return PinterestSDKClient(
        configuration=Configuration(host=f"{base_url}/v5", access_token=token)
    )


def raw_sum(column: str, start: date, end: date) -> int:
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return sum(
        data.ad_day(c, ad, d).get(column, 0)
        for c, _, ad in data.ads_of(data.delivering(DEMO_ACCOUNT.id))
        for d in days
    )


def test_the_ad_account_and_its_campaigns_page_by_bookmark(base_url: str) -> None:
    sdk = client(base_url)
    account = AdAccount(ad_account_id=DEMO_ACCOUNT.id, client=sdk)
    assert (account.name, str(account.currency)) == (DEMO_ACCOUNT.name, DEMO_ACCOUNT.currency)
    seen: list[str] = []
    bookmark = None
    while True:
        page, bookmark = account.list_campaigns(page_size=1, bookmark=bookmark)
        seen += [c.id for c in page]
        if bookmark is None:
            break
        bookmark = bookmark.get_bookmark_token()
    assert seen == [c.id for c in data.CAMPAIGNS]


def test_daily_analytics_are_the_raw_atoms(base_url: str) -> None:
    api = AdAccountsApi(client(base_url))
    rows = api.ad_account_analytics(
        DEMO_ACCOUNT.id, START, END, ["SPEND_IN_MICRO_DOLLAR", "CLICKTHROUGH_1", "CTR"], "DAY"
    ).value
    assert len(rows) == 30 and rows[0]["DATE"] == START  # the client parses the dates
    assert sum(r["SPEND_IN_MICRO_DOLLAR"] for r in rows) == raw_sum(
        "SPEND_IN_MICRO_DOLLAR", START, END
    )
    assert sum(r["CLICKTHROUGH_1"] for r in rows) == raw_sum("CLICKTHROUGH_1", START, END)
    total = api.ad_account_analytics(
        DEMO_ACCOUNT.id, START, END, ["CLICKTHROUGH_1", "IMPRESSION_1", "CTR"], "TOTAL"
    ).value[0]
    assert total["CTR"] == pytest.approx(total["CLICKTHROUGH_1"] / total["IMPRESSION_1"])


def test_the_90_day_limits_and_the_error_envelope(base_url: str, network: SandboxNetwork) -> None:
    api = AdAccountsApi(client(base_url))
    too_old = NOW.date() - timedelta(days=91)
    with pytest.raises(ApiException) as refused:
        api.ad_account_analytics(DEMO_ACCOUNT.id, too_old, too_old, ["IMPRESSION_1"], "DAY")
    assert refused.value.status == 400 and json.loads(refused.value.body)["code"] == 1
    network.controls.switches.expired_tokens.add(DEMO_ACCESS_TOKEN)
    try:
        with pytest.raises(ApiException) as expired:
            api.ad_account_analytics(DEMO_ACCOUNT.id, START, END, ["IMPRESSION_1"], "DAY")
    finally:
        network.controls.switches.expired_tokens.discard(DEMO_ACCESS_TOKEN)
    assert expired.value.status == 401
    assert json.loads(expired.value.body) == {"code": 2, "message": "Authentication failed."}


def test_an_async_report_reaches_its_file(base_url: str) -> None:
    api = AdAccountsApi(client(base_url))
    start, end = date(2025, 9, 1), date(2025, 12, 31)  # older than 90 days, 122 days long
    request = AdsAnalyticsCreateAsyncRequest(
        start_date=start.isoformat(),
        end_date=end.isoformat(),
        granularity="DAY",
        columns=[
            ReportingColumnAsync("SPEND_IN_MICRO_DOLLAR"),
            ReportingColumnAsync("CAMPAIGN_NAME"),
        ],
        level="CAMPAIGN",
        report_format="JSON",
    )
    created = api.analytics_create_report(DEMO_ACCOUNT.id, request)
    assert created["report_status"] == "IN_PROGRESS"
    status: Any = None
    for _ in range(5):
        status = api.analytics_get_report(DEMO_ACCOUNT.id, created["token"])
        if status["report_status"] == "FINISHED":
            break
    assert status["report_status"] == "FINISHED"
    with urlopen(status["url"]) as answer:  # a signed file URL: no token
        report = json.loads(answer.read())
    assert set(report) <= {c.id for c in data.CAMPAIGNS}
    spend = sum(row["SPEND_IN_MICRO_DOLLAR"] for rows in report.values() for row in rows)
    assert spend == raw_sum("SPEND_IN_MICRO_DOLLAR", start, end)
    assert "Black Friday 2025" in {row["CAMPAIGN_NAME"] for rows in report.values() for row in rows}


async def test_the_sdks_refresh_through_the_sandbox_provider() -> None:
    """pinterest_login: consent, a code exchanged with HTTP Basic client auth, then the
    SDK's own refresh (get_new_access_token) at {host}/oauth/token."""
    redirect = "https://app.example/connect/oauth/pinterest_login/callback"
    emulator = build_provider_emulator("pinterest_login", (redirect,))
    client_id, secret = sandbox_client("pinterest_login")
    running = serve_in_background(emulator.app)
    try:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            page = await http.get(
                "/oauth/",
                params={
                    "client_id": client_id,
                    "redirect_uri": redirect,
                    "response_type": "code",
                    "scope": "ads:read,user_accounts:read",
                    "state": "s1",
                },
            )
            assert page.status_code == 200, page.text
            consent = await http.post(
                form_actions(page.text)[0],
                data={"ticket": hidden(page.text, "ticket"), "decision": "allow"},
            )
            code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
            tokens = await http.post(
                "/v5/oauth/token",
                auth=(client_id, secret),
                data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            )
        assert tokens.status_code == 200, tokens.text
        refreshed = get_new_access_token(
            client_id, secret, tokens.json()["refresh_token"], f"{running.base_url}/v5"
        )
        assert refreshed and refreshed != tokens.json()["access_token"]
    finally:
        running.stop()
