"""The OAuth emulators follow the providers' documented behaviour."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from metrics_connect.sandbox import accounts as sandbox
from metrics_connect.sandbox.oauth import (
    FacebookOAuthApp,
    GoogleOAuthApp,
    build_facebook_oauth,
    build_google_oauth,
    google,
    oauth_settings_overrides,
)
from metrics_connect.sandbox.oauth import facebook_login as facebook
from metrics_connect.sandbox.oauth.server import s256
from tests.connect.conftest import form_actions, hidden

REDIRECT = "http://app.test/connect/oauth/facebook_login/callback"
G_REDIRECT = "http://app.test/connect/oauth/google/callback"
VERIFIER = "v" * 43 + "-verifier"


@pytest.fixture
def fb() -> FacebookOAuthApp:
    return build_facebook_oauth(redirect_uris=(REDIRECT,))


@pytest.fixture
def gg() -> GoogleOAuthApp:
    return build_google_oauth(redirect_uris=(G_REDIRECT,))


@pytest.fixture
async def fb_http(fb: FacebookOAuthApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fb.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fb") as c:
        yield c


@pytest.fixture
async def g_http(gg: GoogleOAuthApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gg.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://g") as c:
        yield c


async def _consent(http: httpx.AsyncClient, url: str, decision: str = "allow") -> dict[str, str]:
    page = await http.get(url)
    assert page.status_code == 200
    r = await http.post(
        form_actions(page.text)[0],
        data={"ticket": hidden(page.text, "ticket"), "decision": decision},
    )
    assert r.status_code == 302
    location = r.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location.split("#")[0]).query).items()} | {
        "_location": location
    }


def _fb_dialog(challenge: str | None = None) -> str:
    params = {
        "client_id": facebook.CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": "st-1",
        "scope": "instagram_basic,pages_show_list",
        "response_type": "code",
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return "/v27.0/dialog/oauth?" + httpx.QueryParams(params).__str__()


async def _fb_code(http: httpx.AsyncClient, challenge: str | None = None) -> str:
    answer = await _consent(http, _fb_dialog(challenge))
    assert answer["state"] == "st-1"
    assert answer["_location"].endswith("#_=_")
    return answer["code"]


async def test_facebook_code_is_single_use_and_bound_to_the_redirect_uri(
    fb_http: httpx.AsyncClient,
) -> None:
    code = await _fb_code(fb_http)
    base = {"client_id": facebook.CLIENT_ID, "client_secret": facebook.CLIENT_SECRET}
    wrong = await fb_http.post(
        "/v27.0/oauth/access_token", data=base | {"code": code, "redirect_uri": REDIRECT + "x"}
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["error_subcode"] == 36008
    ok = await fb_http.post(
        "/v27.0/oauth/access_token", data=base | {"code": code, "redirect_uri": REDIRECT}
    )
    assert ok.status_code == 200
    body = ok.json()
    assert body["token_type"] == "bearer" and body["access_token"].startswith("sandbox-")
    again = await fb_http.post(
        "/v27.0/oauth/access_token", data=base | {"code": code, "redirect_uri": REDIRECT}
    )
    assert again.status_code == 400
    assert again.json()["error"]["type"] == "OAuthException"
    assert again.json()["error"]["error_subcode"] == 36009


async def test_facebook_pkce_verifier_must_match(fb_http: httpx.AsyncClient) -> None:
    code = await _fb_code(fb_http, s256(VERIFIER))
    base = {
        "client_id": facebook.CLIENT_ID,
        "client_secret": facebook.CLIENT_SECRET,
        "redirect_uri": REDIRECT,
        "code": code,
    }
    r = await fb_http.post("/v27.0/oauth/access_token", data=base)
    assert r.status_code == 400
    r = await fb_http.post(
        "/v27.0/oauth/access_token", data=base | {"code_verifier": VERIFIER + "x"}
    )
    assert r.status_code == 400
    r = await fb_http.post("/v27.0/oauth/access_token", data=base | {"code_verifier": VERIFIER})
    assert r.status_code == 200


async def test_facebook_wrong_secret_and_long_lived_exchange(fb_http: httpx.AsyncClient) -> None:
    code = await _fb_code(fb_http)
    bad = await fb_http.get(
        "/v27.0/oauth/access_token",
        params={
            "client_id": facebook.CLIENT_ID,
            "client_secret": "nope",
            "redirect_uri": REDIRECT,
            "code": code,
        },
    )
    assert bad.status_code == 400
    short = await fb_http.get(
        "/v27.0/oauth/access_token",
        params={
            "client_id": facebook.CLIENT_ID,
            "client_secret": facebook.CLIENT_SECRET,
            "redirect_uri": REDIRECT,
            "code": code,
        },
    )
    short_token = short.json()["access_token"]
    assert short.json()["expires_in"] == 3600
    long = await fb_http.post(
        "/v27.0/oauth/access_token",
        data={
            "grant_type": "fb_exchange_token",
            "client_id": facebook.CLIENT_ID,
            "client_secret": facebook.CLIENT_SECRET,
            "fb_exchange_token": short_token,
        },
    )
    assert long.status_code == 200
    assert long.json()["expires_in"] == 5183944
    assert long.json()["access_token"] != short_token


async def test_facebook_dialog_refuses_unknown_app_and_unregistered_redirect(
    fb_http: httpx.AsyncClient,
) -> None:
    r = await fb_http.get(_fb_dialog().replace(facebook.CLIENT_ID, "123"))
    assert r.status_code == 400 and "Invalid App ID" in r.text
    r = await fb_http.get(_fb_dialog().replace("app.test", "evil.test"))
    assert r.status_code == 400 and "URL blocked" in r.text
    assert "location" not in r.headers


async def test_facebook_cancel_redirects_with_user_denied(fb_http: httpx.AsyncClient) -> None:
    answer = await _consent(fb_http, _fb_dialog(), decision="deny")
    assert answer["error"] == "access_denied"
    assert answer["error_reason"] == "user_denied"
    assert answer["state"] == "st-1"


async def test_graph_listing_endpoints(fb: FacebookOAuthApp, fb_http: httpx.AsyncClient) -> None:
    missing = await fb_http.get("/v21.0/me/accounts")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 2500
    token = sandbox.DEMO_ACCESS_TOKEN
    headers = {"Authorization": f"Bearer {token}"}
    pages = await fb_http.get(
        "/v21.0/me/accounts",
        params={"fields": "id,name,instagram_business_account{id,username}"},
        headers=headers,
    )
    assert pages.status_code == 200
    [page] = pages.json()["data"]
    assert page == {
        "id": sandbox.FACEBOOK_PAGE_ID,
        "name": sandbox.FACEBOOK_PAGE_NAME,
        "instagram_business_account": {
            "id": sandbox.INSTAGRAM_USER_ID,
            "username": sandbox.INSTAGRAM_USERNAME,
        },
    }
    assert "cursors" in pages.json()["paging"] and "next" not in pages.json()["paging"]
    ads = await fb_http.get(
        "/v21.0/me/adaccounts",
        params={"fields": "name,timezone_name,currency"},
        headers={"Authorization": f"OAuth {token}"},
    )
    [ad] = ads.json()["data"]
    assert ad == {
        "id": sandbox.AD_ACCOUNT_ID,
        "name": sandbox.AD_ACCOUNT_NAME,
        "timezone_name": sandbox.AD_ACCOUNT_TIMEZONE,
        "currency": sandbox.AD_ACCOUNT_CURRENCY,
    }
    fb.server.controls.switches.expired_tokens.add(token)
    expired = await fb_http.get("/v21.0/me/adaccounts", headers=headers)
    assert expired.status_code == 400
    assert expired.json()["error"]["code"] == 190
    assert expired.json()["error"]["error_subcode"] == 463


def _g_auth(offline: bool = True, challenge: str | None = None) -> str:
    params = {
        "client_id": google.CLIENT_ID,
        "redirect_uri": G_REDIRECT,
        "response_type": "code",
        "scope": "https://www.googleapis.com/auth/analytics.readonly",
        "state": "g-1",
    }
    if offline:
        params["access_type"] = "offline"
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return "/o/oauth2/v2/auth?" + str(httpx.QueryParams(params))


async def test_google_code_exchange_refresh_and_basic_auth(g_http: httpx.AsyncClient) -> None:
    answer = await _consent(g_http, _g_auth(challenge=s256(VERIFIER)))
    assert answer["state"] == "g-1"
    basic = base64.b64encode(f"{google.CLIENT_ID}:{google.CLIENT_SECRET}".encode()).decode()
    r = await g_http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": G_REDIRECT,
            "code_verifier": VERIFIER,
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    refresh = body["refresh_token"]
    again = await g_http.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": google.CLIENT_ID,
            "client_secret": google.CLIENT_SECRET,
        },
    )
    assert again.status_code == 200
    assert again.json()["access_token"] != body["access_token"]
    assert "refresh_token" not in again.json()
    wrong = await g_http.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": google.CLIENT_ID,
            "client_secret": "wrong",
        },
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


async def test_google_without_offline_access_gives_no_refresh_token_and_checks_pkce(
    g_http: httpx.AsyncClient,
) -> None:
    answer = await _consent(g_http, _g_auth(offline=False, challenge=s256(VERIFIER)))
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": G_REDIRECT,
        "client_id": google.CLIENT_ID,
        "client_secret": google.CLIENT_SECRET,
    }
    r = await g_http.post("/token", data=form)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await g_http.post("/token", data=form | {"code_verifier": VERIFIER})
    assert r.status_code == 200
    assert "refresh_token" not in r.json()


async def test_google_authorize_needs_scope_and_registered_redirect(
    g_http: httpx.AsyncClient,
) -> None:
    r = await g_http.get(_g_auth().replace("scope=", "nothing="))
    assert r.status_code == 400 and "scope" in r.text
    r = await g_http.get(_g_auth().replace("app.test", "evil.test"))
    assert r.status_code == 400 and "redirect_uri_mismatch" in r.text


async def test_admin_api_account_summaries_and_property(g_http: httpx.AsyncClient) -> None:
    r = await g_http.get("/v1beta/accountSummaries")
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"
    headers = {"Authorization": f"Bearer {sandbox.DEMO_ACCESS_TOKEN}"}
    r = await g_http.get("/v1beta/accountSummaries", headers=headers)
    [account] = r.json()["accountSummaries"]
    assert account["account"] == sandbox.GA4_ACCOUNT_ID
    assert account["propertySummaries"][0]["property"] == sandbox.GA4_PROPERTY_ID
    prop = await g_http.get(f"/v1beta/{sandbox.GA4_PROPERTY_ID}", headers=headers)
    assert prop.json()["timeZone"] == sandbox.GA4_TIMEZONE
    other = await g_http.get("/v1beta/properties/1", headers=headers)
    assert other.status_code == 403


def test_settings_overrides_point_every_provider_url_at_the_emulators() -> None:
    out = oauth_settings_overrides(
        {"facebook_login": "http://127.0.0.1:5001/", "google": "http://127.0.0.1:5002"}
    )
    assert out["facebook_login_authorize_url"] == "http://127.0.0.1:5001/v27.0/dialog/oauth"
    assert out["facebook_login_token_url"] == "http://127.0.0.1:5001/v27.0/oauth/access_token"
    assert out["facebook_login_api_base_url"] == "http://127.0.0.1:5001"
    assert out["google_authorize_url"] == "http://127.0.0.1:5002/o/oauth2/v2/auth"
    assert out["google_token_url"] == "http://127.0.0.1:5002/token"
    assert out["google_api_base_url"] == "http://127.0.0.1:5002"
    assert out["facebook_login_client_id"] == facebook.CLIENT_ID
    assert out["google_client_secret"] == google.CLIENT_SECRET
    assert oauth_settings_overrides() == {}
