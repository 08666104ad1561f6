"""The emulators driven by TikTok's official SDK, tiktok-business-api-sdk-official
(business_api_client), over loopback: the report, advertiser and token endpoints answer
what that client sends (its repeated list parameters, the Access-Token header, the
JSON token body) in the envelope it reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

business_api_client = pytest.importorskip("business_api_client")

from business_api_client.api.account_management_api import AccountManagementApi  # noqa: E402
from business_api_client.api.authentication_api import AuthenticationApi  # noqa: E402
from business_api_client.api.reporting_api import ReportingApi  # noqa: E402
from business_api_client.models.oauth2_access_token_body import (  # noqa: E402
    Oauth2AccessTokenBody,
)
from business_api_client.tiktok_business.tiktok_exceptions import TiktokSDKError  # noqa: E402

from metrics_connect.networks.registry import oauth_provider  # noqa: E402
from metrics_connect.networks.tiktok_ads.emulator.network import build_sandbox  # noqa: E402
from metrics_connect.networks.tiktok_ads.emulator.oauth import (  # noqa: E402
    build_provider_emulator,
)
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN  # noqa: E402
from metrics_connect.sandbox.kit.oauth_server import sandbox_client  # noqa: E402
from metrics_connect.sandbox.oauth.serve import serve_in_background  # noqa: E402
from metrics_connect.sandbox.registry import SandboxNetwork  # noqa: E402

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
REDIRECT = "https://agency.example/connect/oauth/tiktok_business/callback"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SandboxNetwork, str]]:
    network = build_sandbox()
    network.controls.clock.set(NOW)
    running = serve_in_background(network.app)
    yield network, running.base_url
    running.stop()


def api_client(base_url: str) -> Any:
    configuration = business_api_client.Configuration()
    configuration.host = base_url
    return business_api_client.ApiClient(configuration)


def test_a_daily_campaign_report_with_the_sdks_list_parameters(
    served: tuple[SandboxNetwork, str],
) -> None:
    network, base = served
    data: Any = network.emulator
    advertiser = data.data.advertiser_id
    start, end = date(2026, 10, 22), date(2026, 11, 19)
    answer = ReportingApi(api_client(base)).report_integrated_get(
        "BASIC",
        DEMO_ACCESS_TOKEN,
        advertiser_id=advertiser,
        service_type="AUCTION",
        data_level="AUCTION_CAMPAIGN",
        dimensions=["campaign_id", "stat_time_day"],
        metrics=["spend", "impressions", "campaign_name"],
        start_date=start.isoformat(),
        end_date=end.isoformat(),
        page=1,
        page_size=1000,
    )
    rows = answer["data"]["list"]
    assert answer["data"]["page_info"]["total_number"] == len(rows) > 0
    impressions = sum(int(r["metrics"]["impressions"]) for r in rows)
    raw = sum(
        data.data.day_cell(ad, start + timedelta(days=i), NOW).get("impressions", 0)
        for i in range((end - start).days + 1)
        for ad in data.data.ads
    )
    assert impressions == raw
    assert all(r["dimensions"]["stat_time_day"].endswith(" 00:00:00") for r in rows)
    assert {r["metrics"]["campaign_name"] for r in rows} <= {
        c.campaign_name for c in data.data.spec.campaigns
    }


def test_business_errors_come_in_a_200_body_the_sdk_reads(
    served: tuple[SandboxNetwork, str],
) -> None:
    network, base = served
    reporting = ReportingApi(api_client(base))
    common: dict[str, Any] = {
        "advertiser_id": network.demo_account.external_id,
        "data_level": "AUCTION_ADVERTISER",
        "dimensions": ["advertiser_id", "stat_time_day"],
        "metrics": ["spend"],
    }
    with pytest.raises(TiktokSDKError, match=r"Error Code: 40002, .*30 days"):
        reporting.report_integrated_get(
            "BASIC", DEMO_ACCESS_TOKEN, start_date="2026-01-01", end_date="2026-03-31", **common
        )
    with pytest.raises(TiktokSDKError, match="Error Code: 40105"):
        reporting.report_integrated_get(
            "BASIC", "not-a-sandbox-token", start_date="2026-11-01", end_date="2026-11-02", **common
        )


def test_advertiser_info_names_the_time_zone_and_currency(
    served: tuple[SandboxNetwork, str],
) -> None:
    network, base = served
    answer = AccountManagementApi(api_client(base)).advertiser_info(
        [network.demo_account.external_id], DEMO_ACCESS_TOKEN
    )
    info = answer["data"]["list"][0]
    assert (info["timezone"], info["currency"]) == (network.demo_account.timezone, "BRL")


async def test_the_sdks_token_exchange_against_the_sandbox_provider() -> None:
    declared = oauth_provider("tiktok_business")
    assert declared is not None
    provider = build_provider_emulator(declared.spec, (REDIRECT,))
    app_id, secret = sandbox_client("tiktok_business")
    transport = httpx.ASGITransport(app=provider.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://provider") as browser:
        consent = await browser.get(
            "/portal/auth", params={"app_id": app_id, "redirect_uri": REDIRECT, "state": "s1",
                                    "response_type": "code"},
        )  # fmt: skip
        assert consent.status_code == 200, consent.text
        found = re.search(r'name="ticket" value="([^"]+)"', consent.text)
        assert found is not None
        back = await browser.post(
            "/portal/auth/confirm", data={"ticket": found.group(1), "decision": "allow"}
        )
    code = httpx.URL(back.headers["location"]).params["code"]
    running = serve_in_background(provider.app)
    try:
        body = Oauth2AccessTokenBody(app_id=app_id, secret=secret, auth_code=code)
        answer = AuthenticationApi(api_client(running.base_url)).oauth2_access_token(body=body)
        with pytest.raises(TiktokSDKError, match="Error Code: 40110"):  # a code is used once
            AuthenticationApi(api_client(running.base_url)).oauth2_access_token(body=body)
    finally:
        running.stop()
    assert answer["data"]["access_token"].startswith("sandbox-")
    assert answer["data"]["advertiser_ids"] == [build_sandbox().demo_account.external_id]
