"""Connecting an X Ads account: X's OAuth 1.0a three-legged flow (provider `x_login`,
declared by the network) against the sandbox authorization server, the ads accounts
listed on the X Ads API with the fresh token (signed), and the integration on the
account's own time zone, whose widgets then answer with that token."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.networks.twitter_ads.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer
from metrics_connect.sandbox.oauth import build_provider_emulator, oauth_settings_overrides
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.connect.conftest import APP_BASE, form_actions, hidden, new_session, session_path

# Loopback hosts: authlib signs OAuth 1.0a requests over https or loopback only.
LOGIN = "http://127.0.0.1:7201"
ADS = "http://127.0.0.1:7202"


class ByHost(httpx.AsyncBaseTransport):
    """The sign-in emulator and the Ads API emulator, each at its own host."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.routes = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        return await self.routes[host].handle_async_request(request)


@pytest.fixture
def login() -> GenericOAuthServer:
    emulator = build_provider_emulator("x_login", (f"{APP_BASE}/connect/oauth/x_login/callback",))
    assert isinstance(emulator, GenericOAuthServer)
    return emulator


@pytest.fixture
def ads() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
def settings(connect_db_url: str, settings_factory: Any) -> Settings:
    overrides = oauth_settings_overrides({"x_login": LOGIN})
    settings: Settings = settings_factory(connect_db_url, twitter_ads_api_base_url=ADS, **overrides)
    return settings


@pytest.fixture
def runtime(settings: Settings, login: GenericOAuthServer, ads: SandboxNetwork) -> Runtime:
    rt = Runtime.from_settings(settings)
    both = ByHost({LOGIN: login.app, ADS: ads.app})
    rt.upstream_transports[oauth_transport_key("x_login")] = both
    rt.upstream_transports["twitter_ads"] = both
    return rt


async def test_an_ads_account_is_connected_with_oauth1_and_answers(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    login: GenericOAuthServer,
    ads: SandboxNetwork,
    served_networks: list[dict[str, str]],
) -> None:
    served_networks.append({"name": "X Ads", "slug": "twitter_ads"})
    path = session_path(await new_session(client, tenant.headers))
    page = await client.get(path)
    assert "/connect/twitter_ads" in page.text
    started = await client.post(
        f"{path}/connect/twitter_ads", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert started.status_code == 303, started.text
    authorize = str(started.headers["location"])
    assert authorize.startswith(f"{LOGIN}/oauth/authorize?oauth_token=temp-")

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=login.app), base_url=LOGIN
    ) as browser:
        parts = urlsplit(authorize)
        consent = await browser.get(parts.path + "?" + parts.query)
        answer = await browser.post(
            form_actions(consent.text)[0],
            data={"ticket": hidden(consent.text, "ticket"), "decision": "allow"},
        )
    callback = urlsplit(str(answer.headers["location"]))
    assert set(parse_qs(callback.query)) == {"state", "oauth_token", "oauth_verifier"}
    offered = await client.get(callback.path + "?" + callback.query)
    assert offered.status_code == 303, offered.text
    picker = await client.get(offered.headers["location"])
    assert "Acme Coffee - X Ads" in picker.text and "Acme Coffee - Europe" in picker.text
    assert ads.controls.calls.by_endpoint["accounts"] == 1  # listed on the Ads API
    done = await client.post(
        offered.headers["location"],
        data={"csrf_token": hidden(picker.text, "csrf_token"), "account": "18ce55cbbxv"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=connected")

    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration))
    assert row is not None
    assert (row.slug, row.external_id, row.timezone) == (
        "twitter_ads",
        "18ce55cbbxv",
        "Europe/Lisbon",
    )
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert credentials["oauth_token"] in login.oauth1_tokens
    assert (
        credentials["oauth_token_secret"] == login.oauth1_tokens[credentials["oauth_token"]].secret
    )

    # The connector signs its calls with the app's consumer and this token: it answers.
    asked = await client.post(
        "/metrics/get-data",
        json={
            "customer_integration": row.uuid,
            "start": "2026-11-01",
            "end": "2026-11-07",
            "metrics": [
                {
                    "id": "w",
                    "reference_key": "tads:impressions",
                    "component": "number_v1",
                    "metrics": ["impressions"],
                    "dimensions": ["engagement"],
                }
            ],
        },
        headers=tenant.headers,
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["w"]["values"] > 0
    assert ads.controls.calls.by_endpoint["stats"] == 1
