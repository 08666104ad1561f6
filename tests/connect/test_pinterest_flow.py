"""Connecting Pinterest: the OAuth 2.0 code flow of the declared provider `pinterest_login`
(HTTP Basic client authentication, comma-separated scopes) against the sandbox
authorization server; the ad account picker (GET /v5/ad_accounts) and the business
account picker (GET /v5/user_account) on the fresh token; then widgets answer, and an
expired access token is refreshed through the provider and kept."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.networks.pinterest.emulator.network import build_sandbox as organic
from metrics_connect.networks.pinterest_ads.emulator.network import build_sandbox as ads
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer
from metrics_connect.sandbox.oauth import build_provider_emulator, oauth_settings_overrides
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.connect.conftest import APP_BASE, form_actions, hidden, new_session, session_path

LOGIN, ADS, ORGANIC = (
    "http://login.pinterest.test",
    "http://ads.pinterest.test",
    "http://api.pinterest.test",
)


class ByHost(httpx.AsyncBaseTransport):
    """Each emulator at its own host."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.routes = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[f"{request.url.scheme}://{request.url.host}"].handle_async_request(
            request
        )


@pytest.fixture
def login() -> GenericOAuthServer:
    callback = f"{APP_BASE}/connect/oauth/pinterest_login/callback"
    emulator = build_provider_emulator("pinterest_login", (callback,))
    assert isinstance(emulator, GenericOAuthServer)
    return emulator


@pytest.fixture
def networks() -> dict[str, SandboxNetwork]:
    return {"pinterest_ads": ads(), "pinterest": organic()}


@pytest.fixture
def settings(connect_db_url: str, settings_factory: Any) -> Settings:
    overrides = oauth_settings_overrides({"pinterest_login": LOGIN})
    settings: Settings = settings_factory(
        connect_db_url, pinterest_ads_api_base_url=ADS, pinterest_api_base_url=ORGANIC, **overrides
    )
    return settings


@pytest.fixture
def runtime(
    settings: Settings, login: GenericOAuthServer, networks: dict[str, SandboxNetwork]
) -> Runtime:
    rt = Runtime.from_settings(settings)
    every = ByHost(
        {LOGIN: login.app, ADS: networks["pinterest_ads"].app, ORGANIC: networks["pinterest"].app}
    )
    for key in (oauth_transport_key("pinterest_login"), "pinterest_ads", "pinterest"):
        rt.upstream_transports[key] = every
    return rt


async def connect(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    login: GenericOAuthServer,
    slug: str,
    pick: str,
) -> tuple[str, str]:
    """The whole connect flow of `slug`; the picker's page and the new integration's uuid."""
    path = session_path(await new_session(client, tenant.headers))
    page = await client.get(path)
    started = await client.post(
        f"{path}/connect/{slug}", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert started.status_code == 303, started.text
    authorize = urlsplit(str(started.headers["location"]))
    query = parse_qs(authorize.query)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{LOGIN}/oauth/"
    assert "," in query["scope"][0] and " " not in query["scope"][0]  # Pinterest's separator
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=login.app), base_url=LOGIN) as b:
        consent = await b.get(authorize.path + "?" + authorize.query)
        answer = await b.post(
            form_actions(consent.text)[0],
            data={"ticket": hidden(consent.text, "ticket"), "decision": "allow"},
        )
    callback = urlsplit(str(answer.headers["location"]))
    offered = await client.get(callback.path + "?" + callback.query)
    assert offered.status_code == 303, offered.text
    picker = await client.get(offered.headers["location"])
    done = await client.post(
        offered.headers["location"],
        data={"csrf_token": hidden(picker.text, "csrf_token"), "account": pick},
    )
    assert done.status_code == 303, done.text
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.slug == slug))
    assert row is not None and row.external_id == pick and row.timezone == "UTC"
    return picker.text, row.uuid


async def widget(
    client: httpx.AsyncClient, tenant: Any, uuid: str, w: dict[str, Any], start: str = "2026-11-01"
) -> Any:
    asked = await client.post(
        "/metrics/get-data",
        json={
            "customer_integration": uuid,
            "start": start,
            "end": start[:8] + "07",
            "metrics": [{"id": "w", **w}],
        },
        headers=tenant.headers,
    )
    assert asked.status_code == 200, asked.text
    return asked.json()["w"]


async def test_an_ad_account_is_picked_answers_and_refreshes_its_token(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    login: GenericOAuthServer,
    networks: dict[str, SandboxNetwork],
    served_networks: list[dict[str, str]],
) -> None:
    served_networks.append({"name": "Pinterest Ads", "slug": "pinterest_ads"})
    picker, uuid = await connect(client, tenant, runtime, login, "pinterest_ads", "549755885175")
    assert "Acme Coffee - Pinterest Ads" in picker and "Acme Coffee - US Test" in picker
    spend = {
        "reference_key": "pinterest_ads:spend",
        "component": "number_v1",
        "metrics": ["spend_in_micro_dollar"],
        "dimensions": [],
    }
    assert (await widget(client, tenant, uuid, spend))["values"] > 0

    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.uuid == uuid))
    assert row is not None
    before = runtime.vault.decrypt_json(row.credentials_encrypted)
    # Pinterest answers 401 code 2 for the expired token: refreshed through pinterest_login.
    networks["pinterest_ads"].controls.switches.expired_tokens.add(before["access_token"])
    again = {**spend, "reference_key": "pinterest_ads:clicks", "metrics": ["clickthrough_1"]}
    # Other days: not in the store, so asked upstream with the expired token.
    assert (await widget(client, tenant, uuid, again, start="2026-10-01"))["values"] > 0
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.uuid == uuid))
    assert row is not None and row.status == "active"
    after = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert after["access_token"] != before["access_token"]


async def test_the_business_account_is_picked_and_answers(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    login: GenericOAuthServer,
    served_networks: list[dict[str, str]],
) -> None:
    served_networks.append({"name": "Pinterest", "slug": "pinterest"})
    picker, uuid = await connect(client, tenant, runtime, login, "pinterest", "1100000000000000001")
    assert "Acme Coffee Roasters" in picker and "@acmecoffee" in picker
    impressions = {
        "reference_key": "pinterest:impressions",
        "component": "number_v1",
        "metrics": ["impression"],
        "dimensions": ["user"],
    }
    assert (await widget(client, tenant, uuid, impressions))["values"] > 0
