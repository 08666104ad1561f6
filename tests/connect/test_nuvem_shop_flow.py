"""Installing the Nuvemshop app: the OAuth 2.0 code flow of the declared provider
`nuvemshop_app` (consent at /apps/{app_id}/authorize, the app id in the path) against the
sandbox authorization server answering as Nuvemshop does (`user_id` = the store id, no
expiry, no refresh token); the picker offers that store, read from GET /store with the
`Authentication: bearer` header; a widget then answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.networks.nuvem_shop.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer, sandbox_client
from metrics_connect.sandbox.oauth import build_provider_emulator, oauth_settings_overrides
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.connect.conftest import APP_BASE, form_actions, hidden, new_session, session_path

LOGIN, API = "http://www.nuvemshop.test", "http://api.nuvemshop.test"


class ByHost(httpx.AsyncBaseTransport):
    def __init__(self, apps: dict[str, Any]) -> None:
        self.routes = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[f"{request.url.scheme}://{request.url.host}"].handle_async_request(
            request
        )


@pytest.fixture
def login() -> GenericOAuthServer:
    callback = f"{APP_BASE}/connect/oauth/nuvemshop_app/callback"
    emulator = build_provider_emulator("nuvemshop_app", (callback,))
    assert isinstance(emulator, GenericOAuthServer)
    return emulator


@pytest.fixture
def store() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
def runtime(
    connect_db_url: str, settings_factory: Any, login: GenericOAuthServer, store: SandboxNetwork
) -> Runtime:
    overrides = oauth_settings_overrides({"nuvemshop_app": LOGIN})
    settings: Settings = settings_factory(connect_db_url, nuvem_shop_api_base_url=API, **overrides)
    rt = Runtime.from_settings(settings)
    every = ByHost({LOGIN: login.app, API: store.app})
    for key in (oauth_transport_key("nuvemshop_app"), "nuvem_shop"):
        rt.upstream_transports[key] = every
    return rt


async def test_the_store_is_installed_answers_and_an_uninstall_expires_it(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    login: GenericOAuthServer,
    store: SandboxNetwork,
    served_networks: list[dict[str, str]],
) -> None:
    served_networks.append({"name": "Nuvemshop", "slug": "nuvem_shop"})
    path = session_path(await new_session(client, tenant.headers))
    page = await client.get(path)
    started = await client.post(
        f"{path}/connect/nuvem_shop", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert started.status_code == 303, started.text
    authorize = urlsplit(str(started.headers["location"]))
    app_id, _ = sandbox_client("nuvemshop_app")
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
        f"{LOGIN}/apps/{app_id}/authorize"
    )
    assert parse_qs(authorize.query)["state"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=login.app), base_url=LOGIN) as b:
        consent = await b.get(authorize.path + "?" + authorize.query)
        assert consent.status_code == 200, consent.text
        answer = await b.post(
            form_actions(consent.text)[0],
            data={"ticket": hidden(consent.text, "ticket"), "decision": "allow"},
        )
    callback = urlsplit(str(answer.headers["location"]))
    offered = await client.get(callback.path + "?" + callback.query)
    assert offered.status_code == 303, offered.text
    picker = await client.get(offered.headers["location"])
    assert "Café Aurora" in picker.text and "3090017" in picker.text
    done = await client.post(
        offered.headers["location"],
        data={"csrf_token": hidden(picker.text, "csrf_token"), "account": "3090017"},
    )
    assert done.status_code == 303, done.text
    async with runtime.db.session() as db:
        row = await db.scalar(
            select(CustomerIntegration).where(CustomerIntegration.slug == "nuvem_shop")
        )
    assert row is not None and row.external_id == "3090017"
    assert row.timezone == "America/Sao_Paulo"
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert "refresh_token" not in credentials and credentials["access_token"]

    async def revenue(start: str) -> Any:
        asked = await client.post(
            "/metrics/get-data",
            json={
                "customer_integration": row.uuid,
                "start": start,
                "end": start[:8] + "07",
                "metrics": [
                    {
                        "id": "w",
                        "reference_key": "nuvem_shop:revenue",
                        "component": "number_v1",
                        "metrics": ["revenue_value"],
                        "dimensions": ["orders"],
                    }
                ],
            },
            headers=tenant.headers,
        )
        assert asked.status_code == 200, asked.text
        return asked.json()["w"]

    assert (await revenue("2026-10-01"))["values"] > 0
