"""Connectors refresh through a declared provider and sign OAuth 1.0a calls with the
kit's helpers, against the sandbox kit's generic authorization server."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.oauth import oauth1_auth, refresh_with_provider
from metrics_connect.connectors.kit.spec import Streams
from metrics_connect.networks import registry
from metrics_connect.networks.registry import Provider
from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox.kit.oauth_server import (
    OAuth1Token,
    build_generic_oauth,
    sandbox_client,
)
from tests.connectors.kit.test_core import SHOP, context
from tests.sandbox.kit.test_oauth_server import OAUTH1, OAUTH2, REDIRECT, VERIFIER, code_for

BASE = "http://127.0.0.1:7301"


def declare(monkeypatch: pytest.MonkeyPatch, spec: ProviderSpec) -> None:
    found = {spec.name: Provider(spec, __name__, "test")}
    monkeypatch.setattr(registry, "providers", lambda: found)


def settings_for(spec: ProviderSpec) -> Any:
    client_id, secret = sandbox_client(spec.name)
    return SimpleNamespace(
        **{
            f"{spec.name}_token_url": BASE + urlsplit(spec.token_url).path,
            f"{spec.name}_client_id": client_id,
            f"{spec.name}_client_secret": secret,
        }
    )


@pytest.mark.parametrize("token_auth", ["client_secret_post", "client_secret_basic"])
async def test_refresh_through_the_provider_rotates_the_refresh_token(
    monkeypatch: pytest.MonkeyPatch, token_auth: str
) -> None:
    spec = OAUTH2.model_copy(update={"token_auth": token_auth})
    declare(monkeypatch, spec)
    emulator = build_generic_oauth(spec, (REDIRECT,))
    code = await code_for(emulator)
    client_id, secret = sandbox_client(spec.name)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app)) as http:
        exchanged = await http.post(
            BASE + urlsplit(spec.token_url).path,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": VERIFIER,
            },
            auth=httpx.BasicAuth(client_id, secret),
        )
        if token_auth == "client_secret_post":
            assert exchanged.status_code == 401  # the declared method only
            exchanged = await http.post(
                BASE + urlsplit(spec.token_url).path,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT,
                    "code_verifier": VERIFIER,
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
        first = exchanged.json()
        answer = await refresh_with_provider(
            http, settings_for(spec), spec.name, first["refresh_token"]
        )
        assert answer is not None
        assert emulator.server.token_problem(answer["access_token"]) is None
        assert answer["refresh_token"] != first["refresh_token"]
        # The spent refresh token is refused: None, the connector reports expiry.
        assert (
            await refresh_with_provider(http, settings_for(spec), spec.name, first["refresh_token"])
            is None
        )
    assert emulator.controls.calls.by_endpoint["token"] >= 3


async def test_a_refresh_hook_replaces_the_standard_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = OAUTH2.model_copy(update={"refresh": "test_oauth_providers:hook"})
    found = {spec.name: Provider(spec, "tests.connectors.kit", "test")}
    monkeypatch.setattr(registry, "providers", lambda: found)
    async with httpx.AsyncClient() as http:
        answer = await refresh_with_provider(http, object(), spec.name, "r-1")
    assert answer == {"access_token": "from-hook-r-1"}


async def hook(http: httpx.AsyncClient, settings: Any, refresh_token: str) -> dict[str, Any]:
    return {"access_token": f"from-hook-{refresh_token}"}


async def test_oauth1_auth_signs_calls_the_emulator_accepts() -> None:
    emulator = build_generic_oauth(OAUTH1, (REDIRECT,))
    client_id, secret = sandbox_client(OAUTH1.name)
    token, _ = emulator.server.issue_token("oauth1", client_id, (), None)
    emulator.oauth1_tokens[token] = OAuth1Token("token-secret", client_id)
    credentials = {"oauth_token": token, "oauth_token_secret": "token-secret"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app),
        base_url=BASE,
        auth=oauth1_auth(client_id, secret, credentials),
    ) as http:
        assert (await http.get("/sandbox/whoami", params={"q": "a b"})).status_code == 200
    wrong = oauth1_auth(client_id, secret, {**credentials, "oauth_token_secret": "other"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url=BASE, auth=wrong
    ) as http:
        assert (await http.get("/sandbox/whoami")).status_code == 401


async def test_a_kit_connector_refreshes_through_its_refresh_provider() -> None:
    forms: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            forms.append(parse_qs(request.content.decode()))
            return httpx.Response(200, json={"access_token": "new", "refresh_token": "r2"})
        if request.headers["authorization"] != "Bearer new":
            return httpx.Response(401, json={})
        return httpx.Response(200, json={"data": [{"id": 1}]})

    auth = {"placement": "bearer", "refresh_provider": "google"}
    streams = Streams.model_validate({**SHOP, "api": {"family": "json_rest", "auth": auth}})
    ctx = context(
        handler,
        google_token_url="http://shop.test/token",
        google_client_id="cid",
        google_client_secret="cs",
    )
    assert await KitClient(ctx, streams).get("/items", {}) == {"data": [{"id": 1}]}
    assert ctx.credentials["access_token"] == "new"
    assert ctx.credentials["refresh_token"] == "r2"  # rotated
    assert forms == [
        {
            "grant_type": ["refresh_token"],
            "refresh_token": ["r"],
            "client_id": ["cid"],
            "client_secret": ["cs"],
        }
    ]


async def test_a_client_credentials_connector_asks_the_next_token_with_its_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = ProviderSpec(
        name="hotly_login",
        label="Hotly",
        protocol="client_credentials",
        token_url="https://hotly.test/token",
        api_base_url="https://hotly.test",
        token_auth="client_secret_basic",
    )
    declare(monkeypatch, spec)
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            asked.append(request)
            return httpx.Response(200, json={"access_token": "new", "expires_in": 3600})
        if request.headers["authorization"] != "Bearer new":
            return httpx.Response(401, json={})
        return httpx.Response(200, json={"data": []})

    auth = {"placement": "bearer", "refresh_provider": "hotly_login"}
    streams = Streams.model_validate({**SHOP, "api": {"family": "json_rest", "auth": auth}})
    ctx = context(handler)
    ctx.credentials.update(client_id="cid", client_secret="cs")
    assert await KitClient(ctx, streams).get("/items", {}) == {"data": []}
    [token_request] = asked
    assert parse_qs(token_request.content.decode()) == {"grant_type": ["client_credentials"]}
    assert token_request.headers["authorization"] == httpx.BasicAuth("cid", "cs")._auth_header
    assert ctx.credentials["access_token"] == "new"
