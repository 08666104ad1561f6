"""Connecting Hotmart: the customer's own API credentials (client id and secret) on the
connect page's form, the token fetched server-side from the sandbox token endpoint
(client credentials, Basic auth), the producer read from the sales history offered in
the picker; the client is kept for the next token, and a widget then answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.networks.hotmart.emulator.network import build_oauth, build_sandbox
from metrics_connect.networks.registry import oauth_provider
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer, sandbox_client
from metrics_connect.sandbox.oauth import oauth_settings_overrides
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.connect.conftest import hidden, new_session, session_path

TOKENS, API = "http://api-sec-vlc.hotmart.test", "http://developers.hotmart.test"


class ByHost(httpx.AsyncBaseTransport):
    def __init__(self, apps: dict[str, Any]) -> None:
        self.routes = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = f"{request.url.scheme}://{request.url.host}"
        return await self.routes[host].handle_async_request(request)


@pytest.fixture
def tokens() -> GenericOAuthServer:
    provider = oauth_provider("hotmart_login")
    assert provider is not None
    server: GenericOAuthServer = build_oauth(provider.spec)
    return server


@pytest.fixture
def sandbox() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
def runtime(
    connect_db_url: str, settings_factory: Any, tokens: GenericOAuthServer, sandbox: SandboxNetwork
) -> Runtime:
    # Only the token URL: a client_credentials client is the customer's own.
    urls = oauth_settings_overrides({"hotmart_login": TOKENS})
    overrides = {k: v for k, v in urls.items() if not k.endswith(("_id", "_secret"))}
    settings: Settings = settings_factory(connect_db_url, hotmart_api_base_url=API, **overrides)
    rt = Runtime.from_settings(settings)
    every = ByHost({TOKENS: tokens.app, API: sandbox.app})
    for key in (oauth_transport_key("hotmart_login"), "hotmart"):
        rt.upstream_transports[key] = every
    return rt


async def test_the_customers_credentials_connect_the_producer(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    tokens: GenericOAuthServer,
    sandbox: SandboxNetwork,
    served_networks: list[dict[str, str]],
) -> None:
    served_networks.append({"name": "Hotmart", "slug": "hotmart"})
    client_id, client_secret = sandbox_client("hotmart_login")
    path = session_path(await new_session(client, tenant.headers))
    form = (await client.get(f"{path}/form/hotmart")).text
    assert "client_secret" in form
    refused = await client.post(
        f"{path}/form/hotmart",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "client_id": client_id,
            "client_secret": "not-it",
        },
    )
    assert refused.status_code == 422 and "invalid_client" in refused.text
    r = await client.post(
        f"{path}/form/hotmart",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )
    assert r.status_code == 303, r.text
    picker = await client.get(r.headers["location"])
    producer = sandbox.demo_account
    assert producer.source_name in picker.text
    done = await client.post(
        r.headers["location"],
        data={"csrf_token": hidden(picker.text, "csrf_token"), "account": producer.external_id},
    )
    assert done.status_code == 303, done.text
    async with runtime.db.session() as db:
        row = await db.scalar(
            select(CustomerIntegration).where(CustomerIntegration.slug == "hotmart")
        )
    assert row is not None and row.external_id == producer.external_id
    assert row.timezone == "America/Sao_Paulo"
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert credentials["client_id"] == client_id and credentials["client_secret"] == client_secret
    assert tokens.server.token_problem(credentials["access_token"]) is None
