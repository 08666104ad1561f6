"""The emulator spoken to by Google's own Python client (google-api-python-client with
its bundled discovery documents): the Business Profile Performance API v1, the Account
Management and Business Information APIs v1, as a real integration would call them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import httplib2
import pytest
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from starlette.testclient import TestClient

from metrics_connect.networks.google_my_business.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ENDPOINT = "http://gbp.test"


class EmulatorHttp:
    """httplib2.Http's `request` answered by the emulator's ASGI app."""

    def __init__(self, client: TestClient, token: str | None = None) -> None:
        self.client = client
        # Without AuthorizedHttp (which refreshes on 401): the token sent as is.
        self.token = token

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: dict[str, str] | None = None,
        **_: Any,
    ) -> tuple[httplib2.Response, bytes]:
        parts = urlsplit(uri)
        assert f"{parts.scheme}://{parts.netloc}" == ENDPOINT, uri
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        sent = dict(headers or {})
        if self.token is not None:
            sent["authorization"] = f"Bearer {self.token}"
        answer = self.client.request(method, target, content=body, headers=sent)
        response = httplib2.Response({"status": str(answer.status_code), **answer.headers})
        return response, answer.content


@pytest.fixture
def sandbox() -> Iterator[SandboxNetwork]:
    built = build_sandbox()
    built.controls.clock.set(NOW)
    yield built


def service(sandbox: SandboxNetwork, name: str, token: str | None = None) -> Any:
    emulator = TestClient(sandbox.app)
    http: Any = AuthorizedHttp(Credentials(DEMO_ACCESS_TOKEN), http=EmulatorHttp(emulator))
    if token is not None:
        http = EmulatorHttp(emulator, token)
    return build(
        name,
        "v1",
        http=http,
        static_discovery=True,
        client_options={"api_endpoint": ENDPOINT},
        cache_discovery=False,
    )


def test_daily_metrics_through_the_official_client(sandbox: SandboxNetwork) -> None:
    data = sandbox.data
    performance = service(sandbox, "businessprofileperformance")
    answer = (
        performance.locations()
        .fetchMultiDailyMetricsTimeSeries(
            location=data.location_name,
            dailyMetrics=["WEBSITE_CLICKS", "CALL_CLICKS"],
            dailyRange_startDate_year=2026,
            dailyRange_startDate_month=10,
            dailyRange_startDate_day=1,
            dailyRange_endDate_year=2026,
            dailyRange_endDate_month=10,
            dailyRange_endDate_day=31,
        )
        .execute()
    )
    series = answer["multiDailyMetricTimeSeries"][0]["dailyMetricTimeSeries"]
    assert [s["dailyMetric"] for s in series] == ["WEBSITE_CLICKS", "CALL_CLICKS"]
    for one in series:
        dated = one["timeSeries"]["datedValues"]
        assert len(dated) == 31
        first = dated[0]
        assert first["date"] == {"year": 2026, "month": 10, "day": 1}
        expected = data.daily_value(one["dailyMetric"], date(2026, 10, 1), NOW)
        assert int(first.get("value", "0")) == expected


def test_monthly_keywords_page_with_page_tokens(sandbox: SandboxNetwork) -> None:
    data = sandbox.data
    monthly = service(sandbox, "businessprofileperformance").locations().searchkeywords()
    monthly = monthly.impressions().monthly()
    request = monthly.list(
        parent=data.location_name,
        monthlyRange_startMonth_year=2026,
        monthlyRange_startMonth_month=8,
        monthlyRange_endMonth_year=2026,
        monthlyRange_endMonth_month=10,
        pageSize=5,
    )
    keywords: list[str] = []
    pages = 0
    while request is not None:
        page = request.execute()
        pages += 1
        keywords += [k["searchKeyword"] for k in page["searchKeywordsCounts"]]
        request = monthly.list_next(request, page)
    assert keywords == list(data.keywords)
    assert pages == 3


def test_accounts_and_locations_for_the_picker(sandbox: SandboxNetwork) -> None:
    data = sandbox.data
    accounts = service(sandbox, "mybusinessaccountmanagement").accounts().list().execute()
    assert [a["name"] for a in accounts["accounts"]] == [data.account.name]
    information = service(sandbox, "mybusinessbusinessinformation")
    locations = (
        information.accounts()
        .locations()
        .list(parent=data.account.name, readMask="name,title")
        .execute()
    )
    assert locations["locations"] == [{"name": data.location_name, "title": data.location.title}]


def test_an_unknown_token_is_a_401_in_googles_envelope(sandbox: SandboxNetwork) -> None:
    performance = service(sandbox, "businessprofileperformance", token="not-a-sandbox-token")
    with pytest.raises(HttpError) as raised:
        performance.locations().fetchMultiDailyMetricsTimeSeries(
            location=sandbox.data.location_name,
            dailyMetrics=["WEBSITE_CLICKS"],
            dailyRange_startDate_year=2026,
            dailyRange_startDate_month=10,
            dailyRange_startDate_day=1,
            dailyRange_endDate_year=2026,
            dailyRange_endDate_month=10,
            dailyRange_endDate_day=2,
        ).execute()
    assert raised.value.resp.status == 401
    assert "invalid authentication credentials" in raised.value.reason
