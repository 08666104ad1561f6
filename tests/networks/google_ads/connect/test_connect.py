"""Connecting a Google Ads customer on the connect page: Google sign-in with the adwords
scope, then the picker (listAccessibleCustomers and each manager's customer_client
hierarchy on the Google Ads host); a client reached through its manager keeps the
manager's id for every later call."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.networks.google_ads import accounts
from metrics_connect.networks.google_ads.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from tests.connect.conftest import Driver, Emulators, hidden, new_session, session_path

ADS_BASE = "http://googleads.sandbox"
SCOPE = "https://www.googleapis.com/auth/adwords"


class ByHost(httpx.AsyncBaseTransport):
    """The Google sign-in emulator, and the Google Ads emulator on its own host."""

    def __init__(self, google: httpx.AsyncBaseTransport, ads: httpx.AsyncBaseTransport):
        self.google, self.ads = google, ads
        self.ads_headers: list[httpx.Headers] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "googleads.sandbox":
            self.ads_headers.append(request.headers)
            return await self.ads.handle_async_request(request)
        return await self.google.handle_async_request(request)


@pytest.fixture
def ads_runtime(
    runtime: Runtime, emulators: Emulators, monkeypatch: pytest.MonkeyPatch
) -> tuple[Runtime, ByHost]:
    runtime.settings.google_ads_api_base_url = ADS_BASE  # type: ignore[attr-defined]
    runtime.settings.google_ads_developer_token = "dev-token"  # type: ignore[attr-defined]
    monkeypatch.setattr(accounts, "get_settings", lambda: runtime.settings)
    routed = ByHost(emulators.google_upstream, httpx.ASGITransport(app=build_sandbox().app))
    runtime.upstream_transports[oauth_transport_key("google")] = routed
    return runtime, routed


async def test_a_client_is_picked_through_its_manager(
    client: httpx.AsyncClient,
    tenant: Any,
    driver: Driver,
    ads_runtime: tuple[Runtime, ByHost],
    served_networks: list[dict[str, str]],
) -> None:
    runtime, routed = ads_runtime
    served_networks.append({"name": "Google Ads", "slug": "google_ads"})
    session = await new_session(client, tenant.headers)
    authorize = await driver.start(session_path(session), "google_ads")
    assert SCOPE in parse_qs(urlsplit(authorize).query)["scope"][0].split()
    offered = await driver.get(await driver.authorize(authorize))
    picker = await driver.get(offered.headers["location"])
    assert "Acme Coffee Roasters" in picker.text and "Acme Coffee Europe" in picker.text
    assert "Acme Agency (MCC)" not in picker.text  # a manager serves no metrics
    assert all(h["developer-token"] == "dev-token" for h in routed.ads_headers)
    done = await driver.post(
        offered.headers["location"],
        {"csrf_token": hidden(picker.text, "csrf_token"), "account": "5550001111"},
    )
    assert done.status_code == 303, done.text
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration))
    assert row is not None
    assert (row.slug, row.external_id, row.timezone) == (
        "google_ads",
        "5550001111",
        "Europe/Berlin",
    )
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert credentials["login_customer_id"] == "9876543210"
