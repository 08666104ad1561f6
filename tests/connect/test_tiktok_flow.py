"""Connecting TikTok: the two declared providers against the sandbox authorization
server. TikTok for Business (`tiktok_business`): the portal's consent page takes
`app_id`, the code is exchanged as JSON in TikTok's envelope, and the advertisers it
names are picked. TikTok's account-holder login (`tiktok_login`): `client_key`,
comma-separated scopes, the account of the answer's `open_id`; an expired 24-hour token
is refreshed at tt_user/oauth2/refresh_token/ and kept. Then widgets answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.networks.tiktok.emulator.network import build_sandbox as organic
from metrics_connect.networks.tiktok_ads.emulator.network import build_sandbox as ads
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer
from metrics_connect.sandbox.oauth import build_provider_emulator, oauth_settings_overrides
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.connect.conftest import APP_BASE, form_actions, hidden, new_session, session_path

BUSINESS, LOGIN = "http://business.tiktok.test", "http://login.tiktok.test"
ADS, ORGANIC = "http://ads.tiktok.test", "http://api.tiktok.test"


class ByHost(httpx.AsyncBaseTransport):
    """Each emulator at its own host."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.routes = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = f"{request.url.scheme}://{request.url.host}"
        return await self.routes[host].handle_async_request(request)


@pytest.fixture
def logins() -> dict[str, GenericOAuthServer]:
    out = {}
    for name in ("tiktok_business", "tiktok_login"):
        emulator = build_provider_emulator(name, (f"{APP_BASE}/connect/oauth/{name}/callback",))
        assert isinstance(emulator, GenericOAuthServer)
        out[name] = emulator
    return out


@pytest.fixture
def networks() -> dict[str, SandboxNetwork]:
    return {"tiktok_ads": ads(), "tiktok": organic()}


@pytest.fixture
def settings(connect_db_url: str, settings_factory: Any) -> Settings:
    overrides = oauth_settings_overrides({"tiktok_business": BUSINESS, "tiktok_login": LOGIN})
    settings: Settings = settings_factory(
        connect_db_url, tiktok_ads_api_base_url=ADS, tiktok_api_base_url=ORGANIC, **overrides
    )
    return settings


@pytest.fixture
def runtime(
    settings: Settings,
    logins: dict[str, GenericOAuthServer],
    networks: dict[str, SandboxNetwork],
) -> Runtime:
    rt = Runtime.from_settings(settings)
    every = ByHost(
        {
            BUSINESS: logins["tiktok_business"].app,
            LOGIN: logins["tiktok_login"].app,
            ADS: networks["tiktok_ads"].app,
            ORGANIC: networks["tiktok"].app,
        }
    )
    for key in (*map(oauth_transport_key, logins), "tiktok_ads", "tiktok"):
        rt.upstream_transports[key] = every
    return rt


async def connect(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime, login: GenericOAuthServer, slug: str
) -> tuple[dict[str, list[str]], str, str]:
    """The whole connect flow of `slug`: the consent URL's query, the picker, the uuid."""
    path = session_path(await new_session(client, tenant.headers))
    page = await client.get(path)
    started = await client.post(
        f"{path}/connect/{slug}", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert started.status_code == 303, started.text
    authorize = urlsplit(str(started.headers["location"]))
    base = f"{authorize.scheme}://{authorize.netloc}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=login.app), base_url=base) as b:
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
    pick = hidden(picker.text, "account") if 'name="account"' in picker.text else ""
    done = await client.post(
        offered.headers["location"],
        data={"csrf_token": hidden(picker.text, "csrf_token"), "account": pick},
    )
    assert done.status_code == 303, done.text
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.slug == slug))
    assert row is not None
    return parse_qs(authorize.query), picker.text, row.uuid


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


async def test_an_advertiser_is_connected_through_tiktok_for_business(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    logins: dict[str, GenericOAuthServer],
    networks: dict[str, SandboxNetwork],
    served_networks: list[dict[str, str]],
) -> None:
    served_networks.append({"name": "TikTok Ads", "slug": "tiktok_ads"})
    login = logins["tiktok_business"]
    query, picker, uuid = await connect(client, tenant, runtime, login, "tiktok_ads")
    assert query["app_id"] == [login.client.client_id] and "client_id" not in query
    advertiser = networks["tiktok_ads"].demo_account
    assert advertiser.source_name in picker and "BRL" in picker
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.uuid == uuid))
    assert row is not None and row.external_id == advertiser.external_id
    assert row.timezone == "America/Sao_Paulo"
    spend = {"reference_key": "tiktok_ads:spend", "component": "number_v1",
             "metrics": ["spend"], "dimensions": ["campaign_id"]}  # fmt: skip
    assert (await widget(client, tenant, uuid, spend))["values"] > 0


async def test_a_creator_account_connects_and_its_day_token_is_refreshed(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    logins: dict[str, GenericOAuthServer],
    networks: dict[str, SandboxNetwork],
    served_networks: list[dict[str, str]],
) -> None:
    served_networks.append({"name": "TikTok", "slug": "tiktok"})
    login = logins["tiktok_login"]
    query, picker, uuid = await connect(client, tenant, runtime, login, "tiktok")
    assert query["client_key"] == [login.client.client_id] and "client_id" not in query
    assert query["scope"][0].split(",")[:2] == ["user.info.basic", "user.info.username"]
    assert "@sandboxbakery" in picker
    views = {"reference_key": "tiktok:views", "component": "number_v1",
             "metrics": ["view_count"], "dimensions": ["video"]}  # fmt: skip
    assert (await widget(client, tenant, uuid, views))["values"] > 0

    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.uuid == uuid))
    assert row is not None and row.external_id == networks["tiktok"].demo_account.external_id
    before = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert before["refresh_token"]
    networks["tiktok"].controls.switches.expired_tokens.add(before["access_token"])
    likes = {**views, "reference_key": "tiktok:likes", "metrics": ["like_count"]}
    # Other days: not in the store, so asked upstream with the expired token.
    assert (await widget(client, tenant, uuid, likes, start="2026-10-01"))["values"] > 0
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.uuid == uuid))
    assert row is not None and row.status == "active"
    after = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert after["access_token"] != before["access_token"]
