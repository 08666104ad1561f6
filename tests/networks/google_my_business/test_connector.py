"""The connector against the emulator: the reviews snapshot, the account info, the
picker's listing, and what each upstream failure becomes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.connectors.base import (
    ConnectorContext,
    FetchRequest,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
)
from metrics_connect.networks.google_my_business import accounts
from metrics_connect.networks.google_my_business.connector.hooks import (
    GoogleBusinessProfileConnector,
)
from metrics_connect.networks.google_my_business.emulator.data import ProfileData
from metrics_connect.networks.google_my_business.emulator.network import build_sandbox
from metrics_connect.networks.google_my_business.hosts import OFFICIAL, api_host
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.oauth.google import build_google_oauth
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
BASE = "http://gbp.test"


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxNetwork]:
    built = build_sandbox()
    built.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    yield built
    clock.set_clock(None)


def connector(
    sandbox: SandboxNetwork, external_id: str | None = None
) -> GoogleBusinessProfileConnector:
    demo = sandbox.demo_account
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=BASE)
    ctx = ConnectorContext(
        integration_uuid="gbp-test",
        external_id=external_id or demo.external_id,
        credentials=dict(demo.credentials),
        timezone=demo.timezone,
        http=http,
        base_url=BASE,
        settings=Settings(upstream_retry_budget_seconds=0.5),
    )
    return GoogleBusinessProfileConnector(ctx)


def data_of(sandbox: SandboxNetwork) -> ProfileData:
    data: ProfileData = sandbox.data
    return data


async def test_reviews_are_todays_count_and_average_rating(sandbox: SandboxNetwork) -> None:
    today = date(2026, 11, 20)
    request = FetchRequest("reviews", today, today)
    result = await connector(sandbox).fetch(request)
    written = data_of(sandbox).reviews(NOW)
    [row] = result.rows
    assert row.day == today
    assert row.values["total_review_count"] == len(written) > 100
    average = sum(r.star_rating for r in written) / len(written)
    assert row.values["average_rating"] == pytest.approx(average, abs=0.05)
    # A period that does not reach today asks nothing: the archive answers it.
    assert (
        connector(sandbox).plan_calls(
            FetchRequest("reviews", date(2026, 10, 1), date(2026, 10, 31))
        )
        == []
    )


async def test_explain_shows_the_repeated_daily_metrics(sandbox: SandboxNetwork) -> None:
    [call] = connector(sandbox).plan_calls(
        FetchRequest("impressions", date(2026, 9, 1), date(2026, 9, 30))
    )
    assert call.path == f"/v1/{data_of(sandbox).location_name}:fetchMultiDailyMetricsTimeSeries"
    assert call.params["dailyMetrics"].split(",") == [
        "BUSINESS_IMPRESSIONS_DESKTOP_MAPS",
        "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH",
        "BUSINESS_IMPRESSIONS_MOBILE_MAPS",
        "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
    ]
    assert call.params["dailyRange.startDate.day"] == "1"
    assert call.params["dailyRange.endDate.month"] == "9"


async def test_days_older_than_18_months_are_not_asked(sandbox: SandboxNetwork) -> None:
    request = FetchRequest("performance", date(2024, 1, 1), date(2026, 11, 1))
    [call] = connector(sandbox).plan_calls(request)
    asked = date(
        int(call.params["dailyRange.startDate.year"]),
        int(call.params["dailyRange.startDate.month"]),
        int(call.params["dailyRange.startDate.day"]),
    )
    assert asked >= data_of(sandbox).first_kept_day(NOW)
    result = await connector(sandbox).fetch(request)
    assert min(r.day for r in result.rows if r.day is not None) == asked


async def test_account_info_is_the_locations_title(sandbox: SandboxNetwork) -> None:
    info = await connector(sandbox).account_info()
    assert info.name == data_of(sandbox).location.title
    assert info.timezone == "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("switch", "raised"),
    [
        ("expired", IntegrationExpired),
        ("revoked", IntegrationRevoked),
        ("rate_limited", UpstreamRateLimited),
    ],
)
async def test_upstream_failures_map_to_their_errors(
    sandbox: SandboxNetwork, switch: str, raised: type[UpstreamError]
) -> None:
    switches = sandbox.controls.switches
    if switch == "expired":
        switches.expired_tokens.add(DEMO_ACCESS_TOKEN)
    elif switch == "revoked":
        switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    else:
        switches.rate_limit_ratio = 1.0
    with pytest.raises(raised):
        await connector(sandbox).fetch(
            FetchRequest("performance", date(2026, 10, 1), date(2026, 10, 7))
        )


async def test_a_location_of_another_login_is_revoked(sandbox: SandboxNetwork) -> None:
    other = f"{data_of(sandbox).account.name}/locations/999"
    with pytest.raises(IntegrationRevoked):
        await connector(sandbox, other).fetch(
            FetchRequest("performance", date(2026, 10, 1), date(2026, 10, 7))
        )


async def test_a_bad_parameter_is_a_request_error(sandbox: SandboxNetwork) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=BASE
    ) as http:
        response = await http.get(
            f"/v1/{data_of(sandbox).location_name}:fetchMultiDailyMetricsTimeSeries",
            params={"dailyMetrics": "QUERIES_DIRECT", "dailyRange.startDate.year": "2026"},
            headers={"authorization": f"Bearer {DEMO_ACCESS_TOKEN}"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    for wrong in ("locations", "locations/1", "accounts/1/locations/"):
        with pytest.raises(UpstreamError, match="not a Business Profile location"):
            connector(sandbox, wrong).plan_calls(
                FetchRequest("performance", date(2026, 10, 1), date(2026, 10, 7))
            )
    with pytest.raises(UpstreamError, match="not a Business Profile location"):
        connector(sandbox, "locations").plan_calls(
            FetchRequest("performance", date(2026, 10, 1), date(2026, 10, 7))
        )


async def test_the_picker_lists_each_accounts_locations(
    sandbox: SandboxNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against Google (the provider's official host) the listing goes to the APIs' own
    hosts, here pointed at the emulator through the Performance API's setting."""
    settings = Settings(google_my_business_api_base_url=BASE)
    monkeypatch.setattr(accounts, "get_settings", lambda: settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as http:
        found = await accounts.list_accounts(
            http, accounts.GOOGLE_PROVIDER_HOST, "", DEMO_ACCESS_TOKEN
        )
    data = data_of(sandbox)
    assert [(c.external_id, c.name) for c in found] == [
        (data.account_location, data.location.title)
    ]
    assert found[0].external_id == sandbox.demo_account.external_id


async def test_the_sandbox_sign_in_lists_the_demo_location() -> None:
    """The connect page's Google sign-in emulator lists the location this emulator serves."""
    oauth = build_google_oauth()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=oauth.app)) as http:
        found = await accounts.list_accounts(http, "http://google.sandbox", "", DEMO_ACCESS_TOKEN)
    data = ProfileData()
    assert [(c.external_id, c.name) for c in found] == [
        (data.account_location, data.location.title)
    ]


def test_hosts_are_official_unless_the_performance_host_is_overridden() -> None:
    official = Settings()
    assert api_host(official, "reviews") == OFFICIAL["reviews"]
    assert api_host(official, "performance") == OFFICIAL["performance"]
    sandboxed = Settings(google_my_business_api_base_url=BASE)
    assert api_host(sandboxed, "accounts") == BASE
    pinned = Settings(
        google_my_business_api_base_url=BASE,
        google_my_business_reviews_api_base_url="http://reviews.test/",
    )
    assert api_host(pinned, "reviews") == "http://reviews.test"
