"""Connect forms: a throw-away network connected by store URL + API key (the URL vetted
by the SSRF guard, the call through its pinned transport), another by API key alone."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.connect.forms import form_transport_key
from metrics_connect.networks import registry
from metrics_connect.networks.spec import ConnectSpec
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer, sandbox_client
from metrics_connect.sandbox.oauth import (
    RunningServer,
    build_provider_emulator,
    oauth_settings_overrides,
    serve_in_background,
)
from metrics_connect.settings import Settings
from tests.connect.conftest import hidden, new_session, session_path

API_KEY = "shp_live_0123456789abcdef"

SHOP_YAML = """
name: Shoply
family: json_rest
group: commerce
connect:
  form:
    label: your store's API key
    fields:
      - {name: store_url, label: Store URL, kind: url}
      - {name: api_key, label: Admin API key, kind: secret}
    check: accounts:check
base_url_setting: shoply_api_base_url
settings:
  - {name: shoply_api_base_url, default: "https://shoply.test", description: host}
connector: connector:ShoplyConnector
"""

KEY_YAML = """
name: Keyly
family: json_rest
group: crm
connect:
  form:
    fields:
      - {name: api_key, label: API key, kind: secret}
    check: accounts:check
base_url_setting: keyly_api_base_url
settings:
  - {name: keyly_api_base_url, default: "https://api.keyly.test", description: host}
connector: connector:KeylyConnector
"""

HOTLY_YAML = """
name: Hotly
family: json_rest
group: commerce
connect:
  provider: hotly_login
  accounts: accounts:list_accounts
providers:
  - name: hotly_login
    label: Hotly
    protocol: client_credentials
    token_url: https://api-sec.hotly.test/security/oauth/token
    api_base_url: https://api.hotly.test
    token_auth: client_secret_basic
base_url_setting: hotly_api_base_url
settings:
  - {name: hotly_api_base_url, default: "https://api.hotly.test", description: host}
connector: connector:HotlyConnector
"""

HOTLY_ACCOUNTS = """
from metrics_connect.connect.discovery import Candidate, get_json


async def list_accounts(http, base_url, version, token):
    me = await get_json(http, f"{base_url}/sandbox/whoami", token, {})
    return [Candidate(external_id=me["id"], name=me["name"], detail="producer")]
"""
HOTLY_BASE = "http://hotly.sandbox"

SHOP_ACCOUNTS = """
from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed


async def check(http, fields):
    r = await http.get(
        fields["store_url"].rstrip("/") + "/admin/shop.json",
        headers={"X-Api-Key": fields["api_key"]},
    )
    if r.status_code == 401:
        raise ConnectFailed("The store refused this API key.")
    shop = r.json()["shop"]
    return [Candidate(external_id=str(shop["id"]), name=shop["name"], detail=shop["domain"],
                      timezone=shop["iana_timezone"])]
"""

KEY_ACCOUNTS = """
from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed


async def check(http, fields):
    r = await http.get("/v1/me", headers={"Authorization": "Bearer " + fields["api_key"]})
    if r.status_code != 200:
        raise ConnectFailed("Keyly refused this API key.")
    return [Candidate(external_id=r.json()["account_id"], name="Keyly account", detail="")]
"""


def shop_app(calls: list[str]) -> Starlette:
    async def shop(request: Request) -> JSONResponse:
        calls.append(request.url.path)
        if request.headers.get("x-api-key") != API_KEY:
            return JSONResponse({"errors": "Invalid API key"}, status_code=401)
        body = {"id": 77, "name": "Acme Store", "domain": "acme.test", "iana_timezone": "UTC"}
        return JSONResponse({"shop": body})

    return Starlette(routes=[Route("/admin/shop.json", shop)])


def key_app() -> Starlette:
    async def me(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse({"account_id": "k-1"})

    return Starlette(routes=[Route("/v1/me", me)])


def _package(root: Path, name: str, yaml_text: str, accounts: str) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "network.yaml").write_text(yaml_text)
    (package / "accounts.py").write_text(accounts)


@pytest.fixture
def throwaway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _package(tmp_path, "shoply_metrics", SHOP_YAML, SHOP_ACCOUNTS)
    _package(tmp_path, "keyly_metrics", KEY_YAML, KEY_ACCOUNTS)
    _package(tmp_path, "hotly_metrics", HOTLY_YAML, HOTLY_ACCOUNTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    found = [
        EntryPoint("shoply", "shoply_metrics", registry.ENTRY_POINT_GROUP),
        EntryPoint("keyly", "keyly_metrics", registry.ENTRY_POINT_GROUP),
        EntryPoint("hotly", "hotly_metrics", registry.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: found)
    registry.networks.cache_clear()
    registry.providers.cache_clear()
    yield
    registry.networks.cache_clear()
    registry.providers.cache_clear()
    for module in [
        m for m in sys.modules if m.startswith(("shoply_metrics", "keyly_metrics", "hotly_metrics"))
    ]:
        sys.modules.pop(module, None)


@pytest.fixture
def served_networks(monkeypatch: pytest.MonkeyPatch, throwaway: None) -> list[dict[str, str]]:
    networks = [
        {"name": "Shoply", "slug": "shoply"},
        {"name": "Keyly", "slug": "keyly"},
        {"name": "Hotly", "slug": "hotly"},
    ]
    monkeypatch.setattr("metrics_connect.connect.pages.available_integrations", lambda: networks)
    return networks


@pytest.fixture
def shop_calls() -> list[str]:
    return []


@pytest.fixture
def shop(shop_calls: list[str]) -> Iterator[RunningServer]:
    running = serve_in_background(shop_app(shop_calls))
    yield running
    running.stop()


@pytest.fixture
def settings(throwaway: None, connect_db_url: str, settings_factory: Any) -> Settings:
    # The store is on loopback: the operator allow-lists it, as for a webhook.
    settings: Settings = settings_factory(connect_db_url, webhook_allowlist="127.0.0.1")
    return settings


@pytest.fixture
def hotly(throwaway: None) -> GenericOAuthServer:
    emulator = build_provider_emulator("hotly_login")
    assert isinstance(emulator, GenericOAuthServer)
    return emulator


@pytest.fixture
def runtime(settings: Settings, hotly: GenericOAuthServer) -> Runtime:
    # Only the provider's URLs: a client_credentials client is the customer's own.
    urls = oauth_settings_overrides({"hotly_login": HOTLY_BASE})
    rt = Runtime.from_settings(
        settings.model_copy(
            update={k: v for k, v in urls.items() if not k.endswith(("_id", "_secret"))}
        )
    )
    rt.upstream_transports[form_transport_key("keyly")] = httpx.ASGITransport(app=key_app())
    rt.upstream_transports[oauth_transport_key("hotly_login")] = httpx.ASGITransport(app=hotly.app)
    return rt


async def _form(client: httpx.AsyncClient, headers: dict[str, str], slug: str) -> tuple[str, str]:
    path = session_path(await new_session(client, headers))
    page = await client.get(path)
    assert "Sign in with your store&#39;s API key" in page.text
    r = await client.post(
        f"{path}/connect/{slug}", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert r.status_code == 303 and r.headers["location"] == f"{path}/form/{slug}"
    form = await client.get(r.headers["location"])
    assert form.status_code == 200
    return path, form.text


async def _pick(client: httpx.AsyncClient, pick_path: str) -> httpx.Response:
    picker = await client.get(pick_path)
    assert picker.status_code == 200, picker.text
    return await client.post(
        pick_path,
        data={
            "csrf_token": hidden(picker.text, "csrf_token"),
            "account": hidden(picker.text, "account"),
        },
    )


async def test_a_store_url_form_connects_and_keeps_the_key_encrypted(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime, shop: RunningServer
) -> None:
    path, form = await _form(client, tenant.headers, "shoply")
    assert 'type="password" name="api_key"' in form and 'type="url" name="store_url"' in form
    r = await client.post(
        f"{path}/form/shoply",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "store_url": shop.base_url,
            "api_key": API_KEY,
        },
    )
    assert r.status_code == 303, r.text
    done = await _pick(client, r.headers["location"])
    assert done.headers["location"].endswith("?notice=connected")
    async with runtime.db.session() as db:
        row = await db.scalar(
            select(CustomerIntegration).where(CustomerIntegration.slug == "shoply")
        )
    assert row is not None and row.external_id == "77" and row.source_name == "Acme Store"
    assert API_KEY.encode() not in row.credentials_encrypted
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert credentials == {"store_url": shop.base_url, "api_key": API_KEY}


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data", "http://10.0.0.7", "file:///etc/passwd"],
)
async def test_a_url_the_ssrf_guard_refuses_is_never_called(
    client: httpx.AsyncClient, tenant: Any, shop: RunningServer, shop_calls: list[str], url: str
) -> None:
    path, form = await _form(client, tenant.headers, "shoply")
    r = await client.post(
        f"{path}/form/shoply",
        data={"csrf_token": hidden(form, "csrf_token"), "store_url": url, "api_key": API_KEY},
    )
    assert r.status_code == 422
    assert "Store URL:" in r.text
    assert API_KEY not in r.text  # a secret is never sent back
    assert shop_calls == []


async def test_the_networks_refusal_is_shown_and_nothing_is_saved(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime, shop: RunningServer
) -> None:
    path, form = await _form(client, tenant.headers, "shoply")
    r = await client.post(
        f"{path}/form/shoply",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "store_url": shop.base_url,
            "api_key": "wrong-key",
        },
    )
    assert r.status_code == 422
    assert "The store refused this API key." in r.text
    assert "wrong-key" not in r.text
    assert re.search(r'name="store_url" value="http://127\.0\.0\.1:\d+"', r.text)
    async with runtime.db.session() as db:
        assert await db.scalar(select(CustomerIntegration)) is None


async def test_the_form_needs_its_csrf_token_and_every_field(
    client: httpx.AsyncClient, tenant: Any, shop: RunningServer, shop_calls: list[str]
) -> None:
    path, form = await _form(client, tenant.headers, "shoply")
    forged = await client.post(
        f"{path}/form/shoply", data={"store_url": shop.base_url, "api_key": API_KEY}
    )
    assert forged.status_code == 403
    empty = await client.post(
        f"{path}/form/shoply",
        data={"csrf_token": hidden(form, "csrf_token"), "store_url": shop.base_url},
    )
    assert empty.status_code == 422 and "Admin API key is required." in empty.text
    assert shop_calls == []


async def test_an_api_key_form_checks_against_the_networks_own_host(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime
) -> None:
    path = session_path(await new_session(client, tenant.headers))
    form = await client.get(f"{path}/form/keyly")
    assert "Sign in with an API key" in form.text
    r = await client.post(
        f"{path}/form/keyly",
        data={"csrf_token": hidden(form.text, "csrf_token"), "api_key": API_KEY},
    )
    assert r.status_code == 303, r.text
    done = await _pick(client, r.headers["location"])
    assert done.headers["location"].endswith("?notice=connected")


async def test_a_client_credentials_provider_takes_the_customers_client(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime, hotly: GenericOAuthServer
) -> None:
    client_id, client_secret = sandbox_client("hotly_login")
    path = session_path(await new_session(client, tenant.headers))
    page = await client.get(path)
    assert "Sign in with your Hotly API credentials" in page.text
    form = (await client.get(f"{path}/form/hotly")).text
    refused = await client.post(
        f"{path}/form/hotly",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "client_id": client_id,
            "client_secret": "not-it",
        },
    )
    assert refused.status_code == 422 and "invalid_client" in refused.text
    r = await client.post(
        f"{path}/form/hotly",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )
    assert r.status_code == 303, r.text
    done = await _pick(client, r.headers["location"])
    assert done.headers["location"].endswith("?notice=connected")
    async with runtime.db.session() as db:
        row = await db.scalar(
            select(CustomerIntegration).where(CustomerIntegration.slug == "hotly")
        )
    assert row is not None
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert credentials["client_id"] == client_id and credentials["client_secret"] == client_secret
    assert hotly.server.token_problem(credentials["access_token"]) is None
    assert "expires_at" in credentials


def test_connect_takes_a_provider_or_a_form_not_both() -> None:
    form = {"fields": [{"name": "api_key", "label": "Key", "kind": "secret"}], "check": "a:b"}
    with pytest.raises(ValueError, match="exactly one"):
        ConnectSpec.model_validate({"provider": "x_login", "accounts": "a:b", "form": form})
    with pytest.raises(ValueError, match="exactly one"):
        ConnectSpec.model_validate({"scopes": []})
    with pytest.raises(ValueError, match="needs connect.accounts"):
        ConnectSpec.model_validate({"provider": "x_login"})
    assert ConnectSpec.model_validate({"form": form}).form is not None
