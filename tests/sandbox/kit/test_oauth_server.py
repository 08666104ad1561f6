"""The sandbox kit's generic authorization server, configured from a declaration:
RFC 6749 codes and errors, PKCE, refresh rotation and lifetime, RFC 7009 revocation,
hooks for a provider's own token endpoint, and OAuth 1.0a signatures."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth1Auth
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox.kit.oauth_server import (
    GenericOAuthServer,
    build_generic_oauth,
    sandbox_client,
)
from metrics_connect.sandbox.oauth.server import s256
from tests.connect.conftest import form_actions, hidden

REDIRECT = "http://app.test/connect/oauth/acme_login/callback"
BASE = "http://127.0.0.1:7201"  # loopback: authlib signs OAuth 1.0a only there or on https
VERIFIER = "v" * 50

OAUTH2 = ProviderSpec(
    name="acme_login",
    label="Acme",
    authorize_url="https://www.acme.test/oauth/v2/authorization",
    token_url="https://www.acme.test/oauth/v2/accessToken",
    api_base_url="https://api.acme.test",
    pkce=True,
)
OAUTH1 = ProviderSpec(
    name="birdy_login",
    label="Birdy",
    protocol="oauth1",
    request_token_url="https://api.birdy.test/oauth/request_token",
    authorize_url="https://api.birdy.test/oauth/authorize",
    token_url="https://api.birdy.test/oauth/access_token",
    api_base_url="https://api.birdy.test",
)
CLIENT_ID, CLIENT_SECRET = sandbox_client("acme_login")


def http(emulator: GenericOAuthServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url=BASE)


async def code_for(emulator: GenericOAuthServer, *, verifier: str = VERIFIER) -> str:
    async with http(emulator) as c:
        page = await c.get(
            "/oauth/v2/authorization",
            params={
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT,
                "response_type": "code",
                "scope": "ads.read",
                "state": "s1",
                "code_challenge": s256(verifier),
                "code_challenge_method": "S256",
            },
        )
        assert page.status_code == 200, page.text
        r = await c.post(
            form_actions(page.text)[0],
            data={"ticket": hidden(page.text, "ticket"), "decision": "allow"},
        )
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


async def token(emulator: GenericOAuthServer, **fields: str) -> httpx.Response:
    body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **fields}
    async with http(emulator) as c:
        return await c.post("/oauth/v2/accessToken", data=body)


async def test_code_is_single_use_and_bound_to_redirect_and_pkce() -> None:
    emulator = build_generic_oauth(OAUTH2, (REDIRECT,))
    code = await code_for(emulator)
    wrong = await token(
        emulator,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier="w" * 50,
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert wrong.headers["cache-control"] == "no-store"
    code = await code_for(emulator)
    fields = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
    assert (await token(emulator, **fields, redirect_uri=REDIRECT + "x")).status_code == 400
    code = await code_for(emulator)
    ok = await token(emulator, **{**fields, "code": code}, redirect_uri=REDIRECT)
    assert ok.status_code == 200, ok.text
    assert set(ok.json()) >= {"access_token", "refresh_token", "expires_in", "token_type"}
    again = await token(emulator, **{**fields, "code": code}, redirect_uri=REDIRECT)
    assert again.json()["error"] == "invalid_grant"


async def test_client_errors_follow_rfc_6749() -> None:
    emulator = build_generic_oauth(OAUTH2, (REDIRECT,))
    bad = await token(emulator, grant_type="authorization_code", code="x", client_secret="no")
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert "www-authenticate" in bad.headers
    odd = await token(emulator, grant_type="password")
    assert odd.json()["error"] == "unsupported_grant_type"
    async with http(emulator) as c:
        # An unregistered redirect URI is never redirected to.
        page = await c.get(
            "/oauth/v2/authorization",
            params={"client_id": CLIENT_ID, "redirect_uri": "http://evil.test/cb"},
        )
        assert page.status_code == 400 and "location" not in page.headers
        # Without the PKCE challenge the provider requires: back with invalid_request.
        r = await c.get(
            "/oauth/v2/authorization",
            params={"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code"},
        )
        assert r.status_code == 302 and "error=invalid_request" in r.headers["location"]


async def test_refresh_rotates_expires_and_revocation_stops_it() -> None:
    emulator = build_generic_oauth(OAUTH2, (REDIRECT,), refresh_lifetime=timedelta(days=1))
    code = await code_for(emulator)
    first = (
        await token(
            emulator,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
            code_verifier=VERIFIER,
        )
    ).json()
    assert first["refresh_token_expires_in"] == 86400
    second = await token(emulator, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    # Rotation: the old refresh token is spent.
    reused = await token(emulator, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.json()["error"] == "invalid_grant"
    async with http(emulator) as c:
        revoked = await c.post(
            "/revoke",
            data={
                "token": new["access_token"],
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        )
        assert revoked.status_code == 200
        who = await c.get(
            "/sandbox/whoami", headers={"Authorization": f"Bearer {new['access_token']}"}
        )
        assert who.status_code == 401
    emulator.controls.clock.advance(timedelta(days=2))
    late = await token(emulator, grant_type="refresh_token", refresh_token=new["refresh_token"])
    assert late.json()["error"] == "invalid_grant"


async def test_client_secret_basic_takes_the_secret_only_from_the_header() -> None:
    spec = OAUTH2.model_copy(update={"token_auth": "client_secret_basic", "pkce": False})
    emulator = build_generic_oauth(spec, (REDIRECT,))
    code = await code_for(emulator)
    in_body = await token(
        emulator, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert in_body.status_code == 401
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    async with http(emulator) as c:
        r = await c.post(
            "/oauth/v2/accessToken",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": VERIFIER,
            },
            headers={"Authorization": f"Basic {basic}"},
        )
    assert r.status_code == 200, r.text


async def test_hooks_give_a_provider_its_own_token_endpoint_shape() -> None:
    """TikTok-like: JSON {app_id, secret, auth_code}, answers in {code, message, data}."""

    async def read_json(request: Request) -> dict[str, str]:
        body: dict[str, Any] = json.loads(await request.body())
        return {
            "grant_type": "authorization_code",
            "client_id": str(body.get("app_id")),
            "client_secret": str(body.get("secret")),
            "code": str(body.get("auth_code")),
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        }

    def envelope(fields: dict[str, Any]) -> Response:
        return JSONResponse({"code": 0, "message": "OK", "data": fields})

    def error(kind: str, description: str, status: int) -> Response:
        return JSONResponse({"code": 40001, "message": description, "data": {}})

    emulator = build_generic_oauth(
        OAUTH2, (REDIRECT,), read_token_request=read_json, token_answer=envelope, error_answer=error
    )
    code = await code_for(emulator)
    async with http(emulator) as c:
        body = {"app_id": CLIENT_ID, "secret": CLIENT_SECRET, "auth_code": code}
        r = await c.post("/oauth/v2/accessToken", json=body)
        assert r.json()["code"] == 0 and r.json()["data"]["access_token"]
        again = await c.post("/oauth/v2/accessToken", json=body)
        assert again.status_code == 200 and again.json()["code"] == 40001


def _oauth1(**kwargs: Any) -> OAuth1Auth:
    client_id, client_secret = sandbox_client("birdy_login")
    return OAuth1Auth(client_id=client_id, client_secret=client_secret, **kwargs)


async def test_oauth1_checks_every_signature_and_spends_nonces() -> None:
    emulator = build_generic_oauth(OAUTH1, (REDIRECT,))
    async with http(emulator) as c:
        unsigned = await c.post("/oauth/request_token")
        assert unsigned.status_code == 401
        forged = OAuth1Auth(
            client_id=sandbox_client("birdy_login")[0], client_secret="wrong", redirect_uri=REDIRECT
        )
        assert (await c.post("/oauth/request_token", auth=forged)).status_code == 401
        r = await c.post("/oauth/request_token", auth=_oauth1(redirect_uri=REDIRECT))
        assert r.status_code == 200, r.text
        temporary = dict(parse_qs(r.text))
        assert temporary["oauth_callback_confirmed"] == ["true"]
        # A callback not registered for the client is refused.
        elsewhere = _oauth1(redirect_uri="http://evil.test/cb")
        assert (await c.post("/oauth/request_token", auth=elsewhere)).status_code == 401

        # A replayed request (same nonce and timestamp) is refused.
        signed = c.build_request("POST", "/oauth/request_token")
        flow = _oauth1(redirect_uri=REDIRECT).auth_flow(signed)
        request = next(flow)
        assert (await c.send(request)).status_code == 200
        assert (await c.send(request)).status_code == 401

        stale = _oauth1(redirect_uri=REDIRECT)
        stale.get_oauth_params = _stale(stale.get_oauth_params)  # type: ignore[method-assign]
        assert (await c.post("/oauth/request_token", auth=stale)).status_code == 401


def _stale(inner: Any) -> Any:
    def params(nonce: str, timestamp: str) -> Any:
        return inner(nonce, str(int(time.time()) - 3600))

    return params


async def test_oauth1_access_token_needs_the_verifier_and_the_temporary_secret() -> None:
    emulator = build_generic_oauth(OAUTH1, (REDIRECT,))
    async with http(emulator) as c:
        r = await c.post("/oauth/request_token", auth=_oauth1(redirect_uri=REDIRECT))
        temporary = {k: v[0] for k, v in parse_qs(r.text).items()}
        page = await c.get("/oauth/authorize", params={"oauth_token": temporary["oauth_token"]})
        back = await c.post(
            form_actions(page.text)[0],
            data={"ticket": hidden(page.text, "ticket"), "decision": "allow"},
        )
        verifier = parse_qs(urlsplit(back.headers["location"]).query)["oauth_verifier"][0]
        without_secret = _oauth1(token=temporary["oauth_token"], verifier=verifier)
        assert (await c.post("/oauth/access_token", auth=without_secret)).status_code == 401
        wrong = _oauth1(
            token=temporary["oauth_token"],
            token_secret=temporary["oauth_token_secret"],
            verifier="nope",
        )
        assert (await c.post("/oauth/access_token", auth=wrong)).status_code == 401
        right = _oauth1(
            token=temporary["oauth_token"],
            token_secret=temporary["oauth_token_secret"],
            verifier=verifier,
        )
        answer = await c.post("/oauth/access_token", auth=right)
        assert answer.status_code == 200, answer.text
        access = {k: v[0] for k, v in parse_qs(answer.text).items()}
        assert set(access) == {"oauth_token", "oauth_token_secret", "user_id", "screen_name"}
        signed = _oauth1(token=access["oauth_token"], token_secret=access["oauth_token_secret"])
        assert (await c.get("/sandbox/whoami", auth=signed)).status_code == 200
        unsigned_secret = _oauth1(token=access["oauth_token"], token_secret="x")
        assert (await c.get("/sandbox/whoami", auth=unsigned_secret)).status_code == 401
        assert (await c.post("/oauth/access_token", auth=right)).status_code == 401


@pytest.mark.parametrize("spec", [OAUTH2, OAUTH1])
def test_the_server_serves_the_declared_paths(spec: ProviderSpec) -> None:
    emulator = build_generic_oauth(spec)
    paths = {getattr(route, "path", "") for route in emulator.app.routes}
    assert urlsplit(spec.authorize_url).path in paths
    assert urlsplit(spec.token_url).path in paths
    assert (urlsplit(spec.request_token_url).path in paths) == (spec.protocol == "oauth1")
