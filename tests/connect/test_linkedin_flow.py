"""Connecting LinkedIn Ads and LinkedIn Pages: LinkedIn's OAuth 2.0 (provider
`linkedin_login`, declared by linkedin_ads, LinkedIn's lifetimes: 60-day access and
365-day refresh tokens) against the sandbox authorization server, the account pickers
(ad accounts by the login's roles, pages by its administrator ACLs) on each network's
emulator, widgets answering with the grant, and an expired token renewed by refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.networks.linkedin.emulator.network import build_sandbox as build_pages
from metrics_connect.networks.linkedin_ads.emulator.network import build_sandbox as build_ads
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer
from metrics_connect.sandbox.oauth import build_provider_emulator, oauth_settings_overrides
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.connect.conftest import APP_BASE, form_actions, hidden, new_session, session_path

LOGIN = "http://linkedin-login.sandbox"
ADS = "http://linkedin-ads.sandbox"
PAGES = "http://linkedin-pages.sandbox"
CASES = {
    "linkedin_ads": ("510000001", "Acme Coffee - LinkedIn Ads", "clicks", "adAccountUsers"),
    "linkedin": ("2414183", "Acme Coffee Roasters", "impressions", "organizationAcls"),
}


class ByHost(httpx.AsyncBaseTransport):
    def __init__(self, apps: dict[str, Any]) -> None:
        self.routes = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[f"{request.url.scheme}://{request.url.host}"].handle_async_request(
            request
        )


@pytest.fixture
def login() -> GenericOAuthServer:
    callback = f"{APP_BASE}/connect/oauth/linkedin_login/callback"
    emulator = build_provider_emulator("linkedin_login", (callback,))
    assert isinstance(emulator, GenericOAuthServer)
    return emulator


@pytest.fixture
def networks() -> dict[str, SandboxNetwork]:
    return {"linkedin_ads": build_ads(), "linkedin": build_pages()}


@pytest.fixture
def settings(connect_db_url: str, settings_factory: Any) -> Settings:
    overrides = oauth_settings_overrides({"linkedin_login": LOGIN})
    settings: Settings = settings_factory(
        connect_db_url, linkedin_ads_api_base_url=ADS, linkedin_api_base_url=PAGES, **overrides
    )
    return settings


@pytest.fixture
def runtime(
    settings: Settings, login: GenericOAuthServer, networks: dict[str, SandboxNetwork]
) -> Runtime:
    rt = Runtime.from_settings(settings)
    routed = ByHost(
        {LOGIN: login.app, ADS: networks["linkedin_ads"].app, PAGES: networks["linkedin"].app}
    )
    for key in (oauth_transport_key("linkedin_login"), "linkedin_ads", "linkedin"):
        rt.upstream_transports[key] = routed
    return rt


async def connect(client: httpx.AsyncClient, headers: dict[str, str], login: Any, slug: str) -> str:
    """The whole connect page flow for `slug`; the picker's page text."""
    path = session_path(await new_session(client, headers))
    page = await client.get(path)
    started = await client.post(
        f"{path}/connect/{slug}", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert started.status_code == 303, started.text
    authorize = urlsplit(str(started.headers["location"]))
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
        f"{LOGIN}/oauth/v2/authorization"
    )
    scopes = set(parse_qs(authorize.query)["scope"][0].split(" "))
    assert scopes == (
        {"r_ads", "r_ads_reporting"}
        if slug == "linkedin_ads"
        else {"r_organization_social", "rw_organization_admin"}
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=login.app), base_url=LOGIN
    ) as browser:
        consent = await browser.get(authorize.path + "?" + authorize.query)
        answer = await browser.post(
            form_actions(consent.text)[0],
            data={"ticket": hidden(consent.text, "ticket"), "decision": "allow"},
        )
    callback = urlsplit(str(answer.headers["location"]))
    offered = await client.get(callback.path + "?" + callback.query)
    assert offered.status_code == 303, offered.text
    picker = await client.get(offered.headers["location"])
    external_id, name, _, _ = CASES[slug]
    assert name in picker.text
    done = await client.post(
        offered.headers["location"],
        data={"csrf_token": hidden(picker.text, "csrf_token"), "account": external_id},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=connected")
    return picker.text


@pytest.mark.parametrize("slug", list(CASES))
async def test_a_linkedin_account_is_connected_and_answers(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    login: GenericOAuthServer,
    networks: dict[str, SandboxNetwork],
    served_networks: list[dict[str, str]],
    slug: str,
) -> None:
    served_networks.append({"name": slug, "slug": slug})
    await connect(client, tenant.headers, login, slug)
    external_id, _, widget, listing = CASES[slug]
    assert networks[slug].controls.calls.by_endpoint[listing] == 1
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.slug == slug))
    assert row is not None and (row.external_id, row.timezone) == (external_id, "UTC")
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert credentials["refresh_token"]
    # LinkedIn's access tokens last 60 days.
    expires = datetime.fromisoformat(str(credentials["expires_at"]))
    assert timedelta(days=59) < expires - datetime.now(UTC) <= timedelta(days=60)

    # An expired access token is renewed with the refresh token, and the widget answers.
    networks[slug].controls.switches.expired_tokens.add(credentials["access_token"])
    asked = await client.post(
        "/metrics/get-data",
        json={
            "customer_integration": row.uuid,
            "start": "2026-10-01",
            "end": "2026-10-31",
            "metrics": [{"id": "w", "component": "number_v1", "metrics": [widget]}],
        },
        headers={**tenant.headers},
    )
    assert asked.status_code == 200, asked.text
    assert isinstance(asked.json()["w"]["values"], int), asked.json()
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.slug == slug))
    assert row is not None
    renewed = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert renewed["access_token"] != credentials["access_token"]
    # LinkedIn keeps the refresh token on a refresh (no rotation).
    assert renewed["refresh_token"] == credentials["refresh_token"]
