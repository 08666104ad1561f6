"""A provider is data: a throw-away network package declares its own OAuth 2.0 and
OAuth 1.0a providers in its network.yaml, and the connect flow completes against the
sandbox kit's generic authorization server with no code of its own but the listing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.networks import registry
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer
from metrics_connect.sandbox.oauth import build_provider_emulator, oauth_settings_overrides
from metrics_connect.settings import Settings
from tests.connect.conftest import APP_BASE, form_actions, hidden, new_session, session_path

OAUTH2_BASE = "http://acme-login.sandbox"
# authlib signs OAuth 1.0a requests over https or loopback only.
OAUTH1_BASE = "http://127.0.0.1:7101"

ACME_YAML = """
name: Acme Ads
family: json_rest
group: ads
connect:
  provider: acme_login
  scopes: [ads.read, reports.read]
  accounts: accounts:list_accounts
providers:
  - name: acme_login
    label: Acme
    protocol: oauth2
    authorize_url: https://www.acme.test/oauth/v2/authorization
    token_url: https://www.acme.test/oauth/v2/accessToken
    api_base_url: https://api.acme.test
    scope_separator: " "
    pkce: true
    token_auth: client_secret_basic
base_url_setting: acme_ads_api_base_url
settings:
  - {name: acme_ads_api_base_url, default: "https://api.acme.test", description: Acme host}
connector: connector:AcmeConnector
"""

BIRDY_YAML = """
name: Birdy Ads
family: json_rest
group: ads
connect:
  provider: birdy_login
  scopes: []
  accounts: accounts:list_accounts
providers:
  - name: birdy_login
    label: Birdy
    protocol: oauth1
    request_token_url: https://api.birdy.test/oauth/request_token
    authorize_url: https://api.birdy.test/oauth/authorize
    token_url: https://api.birdy.test/oauth/access_token
    api_base_url: https://api.birdy.test
base_url_setting: birdy_ads_api_base_url
settings:
  - {name: birdy_ads_api_base_url, default: "https://ads.birdy.test", description: Birdy host}
connector: connector:BirdyConnector
"""

# The listing asks the provider who the token is: Bearer for OAuth 2.0; for OAuth 1.0a
# the `http` it is given signs every request.
ACCOUNTS_PY = """
from metrics_connect.connect.discovery import Candidate, get_json


async def list_accounts(http, base_url, version, token):
    me = await get_json(http, f"{base_url}/sandbox/whoami", token, {})
    return [Candidate(external_id=me["id"], name=me["name"], detail="sandbox user")]
"""

ACCOUNTS_OAUTH1_PY = """
from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed


async def list_accounts(http, base_url, version, token):
    r = await http.get(f"{base_url}/sandbox/whoami")
    if r.status_code != 200:
        raise ConnectFailed(f"whoami answered HTTP {r.status_code}")
    me = r.json()
    return [Candidate(external_id=me["id"], name=me["name"], detail="sandbox user")]
"""


def _package(root: Path, name: str, yaml_text: str, accounts: str) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "network.yaml").write_text(yaml_text)
    (package / "accounts.py").write_text(accounts)


@pytest.fixture
def throwaway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _package(tmp_path, "acme_metrics", ACME_YAML, ACCOUNTS_PY)
    _package(tmp_path, "birdy_metrics", BIRDY_YAML, ACCOUNTS_OAUTH1_PY)
    monkeypatch.syspath_prepend(str(tmp_path))
    found = [
        EntryPoint("acme_ads", "acme_metrics", registry.ENTRY_POINT_GROUP),
        EntryPoint("birdy_ads", "birdy_metrics", registry.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: found)
    registry.networks.cache_clear()
    registry.providers.cache_clear()
    yield
    registry.networks.cache_clear()
    registry.providers.cache_clear()
    for module in [m for m in sys.modules if m.startswith(("acme_metrics", "birdy_metrics"))]:
        sys.modules.pop(module, None)


@pytest.fixture
def served_networks(monkeypatch: pytest.MonkeyPatch, throwaway: None) -> list[dict[str, str]]:
    networks = [
        {"name": "Acme Ads", "slug": "acme_ads"},
        {"name": "Birdy Ads", "slug": "birdy_ads"},
    ]
    monkeypatch.setattr("metrics_connect.connect.pages.available_integrations", lambda: networks)
    return networks


@pytest.fixture
def generic(throwaway: None) -> dict[str, GenericOAuthServer]:
    out = {}
    for name in ("acme_login", "birdy_login"):
        emulator = build_provider_emulator(name, (f"{APP_BASE}/connect/oauth/{name}/callback",))
        assert isinstance(emulator, GenericOAuthServer)
        out[name] = emulator
    return out


@pytest.fixture
def settings(throwaway: None, connect_db_url: str, settings_factory: Any) -> Settings:
    overrides = oauth_settings_overrides({"acme_login": OAUTH2_BASE, "birdy_login": OAUTH1_BASE})
    settings: Settings = settings_factory(connect_db_url, **overrides)
    return settings


@pytest.fixture
def runtime(settings: Settings, generic: dict[str, GenericOAuthServer]) -> Runtime:
    rt = Runtime.from_settings(settings)
    for name, emulator in generic.items():
        rt.upstream_transports[oauth_transport_key(name)] = httpx.ASGITransport(app=emulator.app)
    return rt


def test_settings_are_derived_from_the_declaration(throwaway: None) -> None:
    plain = Settings()
    assert plain.acme_login_token_url == "https://www.acme.test/oauth/v2/accessToken"
    assert plain.acme_login_client_id is None
    assert plain.birdy_login_request_token_url == ("https://api.birdy.test/oauth/request_token")


async def _consent(emulator: GenericOAuthServer, base: str, url: str, decision: str) -> str:
    """The consent page at the emulator; returns where it sends the browser back."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url=base
    ) as browser:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == base
        page = await browser.get(parts.path + "?" + parts.query)
        assert page.status_code == 200, page.text
        answer = await browser.post(
            form_actions(page.text)[0],
            data={"ticket": hidden(page.text, "ticket"), "decision": decision},
        )
        assert answer.status_code == 302
        return str(answer.headers["location"])


async def _start(client: httpx.AsyncClient, headers: dict[str, str], slug: str) -> tuple[str, str]:
    path = session_path(await new_session(client, headers))
    page = await client.get(path)
    assert page.status_code == 200
    r = await client.post(
        f"{path}/connect/{slug}", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert r.status_code == 303, r.text
    return path, str(r.headers["location"])


async def _pick(client: httpx.AsyncClient, callback: str) -> httpx.Response:
    parts = urlsplit(callback)
    r = await client.get(parts.path + "?" + parts.query)
    assert r.status_code == 303, r.text
    picker = await client.get(r.headers["location"])
    assert picker.status_code == 200, picker.text
    return await client.post(
        r.headers["location"],
        data={
            "csrf_token": hidden(picker.text, "csrf_token"),
            "account": hidden(picker.text, "account"),
        },
    )


async def _credentials(runtime: Runtime, slug: str) -> tuple[CustomerIntegration, dict[str, Any]]:
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.slug == slug))
        assert row is not None
        return row, runtime.vault.decrypt_json(row.credentials_encrypted)


async def test_oauth2_provider_declared_by_a_network_connects_with_no_code(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime, generic: dict[str, GenericOAuthServer]
) -> None:
    page = await client.get(session_path(await new_session(client, tenant.headers)))
    assert "Acme" in page.text and "/connect/acme_ads" in page.text
    _, authorize = await _start(client, tenant.headers, "acme_ads")
    query = parse_qs(urlsplit(authorize).query)
    assert query["scope"] == ["ads.read reports.read"]
    assert query["code_challenge_method"] == ["S256"]
    callback = await _consent(generic["acme_login"], OAUTH2_BASE, authorize, "allow")
    assert callback.startswith(f"{APP_BASE}/connect/oauth/acme_login/callback?code=")
    done = await _pick(client, callback)
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=connected")

    row, credentials = await _credentials(runtime, "acme_ads")
    assert row.status == "active" and row.source_name == "Sandbox Tester"
    # The emulator issued these: they are live there, and the refresh token came along.
    assert generic["acme_login"].server.token_problem(credentials["access_token"]) is None
    assert credentials["refresh_token"] in generic["acme_login"].refresh_tokens
    # client_secret_basic: the emulator takes the secret only from the Basic header.
    assert generic["acme_login"].controls.calls.by_endpoint["token"] == 1


async def test_oauth2_denied_consent_connects_nothing(
    client: httpx.AsyncClient, tenant: Any, generic: dict[str, GenericOAuthServer]
) -> None:
    _, authorize = await _start(client, tenant.headers, "acme_ads")
    callback = await _consent(generic["acme_login"], OAUTH2_BASE, authorize, "deny")
    assert "error=access_denied" in callback
    parts = urlsplit(callback)
    r = await client.get(parts.path + "?" + parts.query)
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=denied")


async def test_oauth1_provider_completes_the_three_legs(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime, generic: dict[str, GenericOAuthServer]
) -> None:
    emulator = generic["birdy_login"]
    _, authorize = await _start(client, tenant.headers, "birdy_ads")
    assert authorize.startswith(f"{OAUTH1_BASE}/oauth/authorize?oauth_token=temp-")
    callback = await _consent(emulator, OAUTH1_BASE, authorize, "allow")
    query = parse_qs(urlsplit(callback).query)
    assert set(query) == {"state", "oauth_token", "oauth_verifier"}
    done = await _pick(client, callback)
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=connected")

    row, credentials = await _credentials(runtime, "birdy_ads")
    assert row.external_id == "900000000000001"
    assert credentials["oauth_token"] in emulator.oauth1_tokens
    assert (
        credentials["oauth_token_secret"]
        == emulator.oauth1_tokens[credentials["oauth_token"]].secret
    )
    # The temporary credentials are spent: the same verifier cannot be replayed.
    assert emulator.temporary == {}


async def test_oauth1_refusal_and_replayed_callback_connect_nothing(
    client: httpx.AsyncClient, tenant: Any, generic: dict[str, GenericOAuthServer]
) -> None:
    _, authorize = await _start(client, tenant.headers, "birdy_ads")
    callback = await _consent(generic["birdy_login"], OAUTH1_BASE, authorize, "deny")
    assert "denied=temp-" in callback
    parts = urlsplit(callback)
    r = await client.get(parts.path + "?" + parts.query)
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=denied")
    again = await client.get(parts.path + "?" + parts.query)
    assert again.status_code == 400  # the state was spent


async def test_unconfigured_declared_provider_is_unavailable(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime
) -> None:
    runtime.settings.acme_login_client_secret = None
    path = session_path(await new_session(client, tenant.headers))
    page = await client.get(path)
    assert "/connect/acme_ads" not in page.text and "/connect/birdy_ads" in page.text
    r = await client.post(
        f"{path}/connect/acme_ads", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert r.headers["location"].endswith("?notice=unavailable")


async def test_a_refused_oauth1_request_token_is_a_failed_start(
    client: httpx.AsyncClient,
    tenant: Any,
    runtime: Runtime,
    generic: dict[str, GenericOAuthServer],
) -> None:
    runtime.settings.birdy_login_client_secret = "not-the-consumer-secret"
    path = session_path(await new_session(client, tenant.headers))
    page = await client.get(path)
    r = await client.post(
        f"{path}/connect/birdy_ads", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=failed")
    assert generic["birdy_login"].temporary == {}
