"""The connect page's security properties: expiry, state, tenancy, CSRF, secrets, headers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update
from structlog.testing import capture_logs

from metrics_connect.accounts import service
from metrics_connect.accounts.models import CustomerIntegration, IntegrationSession
from metrics_connect.runtime import Runtime
from tests.connect.conftest import (
    Driver,
    Emulators,
    hidden,
    new_session,
    path_of,
    session_path,
)


async def _integrations(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Any]:
    r = await client.get("/customer-integrations", headers=headers)
    data: list[Any] = r.json()["data"]
    return data


def assert_strict_headers(r: httpx.Response) -> None:
    csp = r.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}
    assert directives["default-src"] == ["'none'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"][0] == "'self'"
    # The sandbox providers, and other declared providers' own origins (never a path).
    origins = set(directives["form-action"][1:])
    assert {"http://facebook.sandbox", "http://google.sandbox"} <= origins
    assert all(urlsplit(o).path == "" and urlsplit(o).scheme in ("http", "https") for o in origins)
    assert "script-src" not in directives
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"


# --- expiry ---------------------------------------------------------------------------


async def test_a_session_link_answers_401_with_a_page_after_five_minutes(
    client: httpx.AsyncClient, tenant: Any, frozen_clock: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    path = session_path(session)
    page = await driver.get(path)
    assert page.status_code == 200
    csrf = hidden(page.text, "csrf_token")

    frozen_clock.advance(seconds=299)
    assert (await driver.get(path)).status_code == 200
    frozen_clock.advance(seconds=2)
    r = await driver.get(path)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("text/html")
    assert "This link has expired" in r.text
    assert "Ask Agency for a new link" in r.text
    assert "Back to Agency" not in r.text  # this session has no redirect_url
    assert_strict_headers(r)
    # The forms die with the page.
    r = await driver.post(f"{path}/connect/instagram_business", {"csrf_token": csrf})
    assert r.status_code == 401


async def test_returning_from_the_provider_after_expiry_shows_the_expired_page(
    client: httpx.AsyncClient, tenant: Any, frozen_clock: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    callback = await driver.authorize(
        await driver.start(session_path(session), "instagram_business")
    )
    frozen_clock.advance(seconds=301)
    r = await driver.get(callback)
    assert r.status_code == 401
    assert "This link has expired" in r.text
    assert await _integrations(client, tenant.headers) == []


async def test_an_unknown_session_link_is_404(driver: Driver) -> None:
    r = await driver.get("/customer-integrations/session/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    assert "Link not found" in r.text
    assert_strict_headers(r)


# --- state ----------------------------------------------------------------------------


async def test_a_forged_state_is_refused(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, emulators: Emulators
) -> None:
    session = await new_session(client, tenant.headers)
    callback = await driver.authorize(
        await driver.start(session_path(session), "instagram_business")
    )
    code = parse_qs(urlsplit(callback).query)["code"][0]
    for forged in ("forged", "", "x" * 43):
        r = await driver.get(f"/connect/oauth/facebook_login/callback?code={code}&state={forged}")
        assert r.status_code == 400
        assert "Sign-in not accepted" in r.text
    # Nothing was exchanged for a forged state.
    assert emulators.facebook.server.controls.calls.by_endpoint["oauth/access_token"] == 0
    assert await _integrations(client, tenant.headers) == []


async def test_a_replayed_state_is_refused(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, emulators: Emulators
) -> None:
    session = await new_session(client, tenant.headers)
    done = await driver.connect(session_path(session), "instagram_business")
    assert done.status_code == 303
    exchanges = emulators.facebook.server.controls.calls.by_endpoint["oauth/access_token"]
    # The callback cleared the flow's cookie; replay it too: the state itself is spent.
    name, value = driver.trail.binding_cookie
    assert name and value and not client.cookies.get(name)
    client.cookies.set(name, value, domain="testserver", path="/connect/oauth/")
    r = await driver.get(driver.trail.callback_url)
    assert r.status_code == 400
    assert emulators.facebook.server.controls.calls.by_endpoint["oauth/access_token"] == exchanges
    assert len(await _integrations(client, tenant.headers)) == 1


async def test_a_state_is_only_good_at_its_own_provider(
    client: httpx.AsyncClient, tenant: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    callback = await driver.authorize(
        await driver.start(session_path(session), "instagram_business")
    )
    query = urlsplit(callback).query
    r = await driver.get(f"/connect/oauth/google/callback?{query}")
    assert r.status_code == 400
    # ...and was not spent by the wrong provider: the right callback still works.
    r = await driver.get(callback)
    assert r.status_code == 303


async def test_a_consent_completed_in_another_browser_connects_nothing(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, app: Any
) -> None:
    """An attacker's authorize URL, completed by a victim, does not land in the
    attacker's session: the victim's browser lacks the flow's cookie."""
    session = await new_session(client, tenant.headers)
    callback = await driver.authorize(
        await driver.start(session_path(session), "instagram_business")
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as victim:
        r = await victim.get(path_of(callback))
    assert r.status_code == 400
    assert await _integrations(client, tenant.headers) == []
    # The state was not spent by the stranger: the browser that started still can.
    assert (await driver.get(callback)).status_code == 303


async def test_states_are_stored_only_as_digests(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    session = await new_session(client, tenant.headers)
    authorize = await driver.start(session_path(session), "instagram_business")
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    assert len(state) >= 43
    async with runtime.db.session() as db:
        from metrics_connect.connect.models import OAuthState

        rows = list(await db.scalars(select(OAuthState)))
    assert len(rows) == 1
    assert rows[0].state_hash != state and state not in rows[0].state_hash


# --- tenancy --------------------------------------------------------------------------


async def _integration_for(runtime: Runtime, customer_uuid: str) -> str:
    async with runtime.db.session() as db:
        from metrics_connect.accounts.models import Customer

        customer = await db.scalar(select(Customer).where(Customer.uuid == customer_uuid))
        assert customer is not None
        row = await service.create_integration(
            db,
            runtime.vault,
            customer,
            slug="facebook_ads",
            source_name="B's ads",
            external_id="act_999",
            credentials={"access_token": "sandbox-b-token"},
        )
        row.status = "expired"
        await db.commit()
        return row.uuid


async def test_a_session_of_customer_a_cannot_touch_customer_b_integrations(
    client: httpx.AsyncClient, make_tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    a = await make_tenant("Agency A")
    b = await make_tenant("Agency B")
    b_uuid = await _integration_for(runtime, b.customer_uuid)
    session_a = await new_session(client, a.headers)
    path = session_path(session_a)
    page = await driver.get(path)
    assert "B&#39;s ads" not in page.text and "B's ads" not in page.text
    assert b_uuid not in page.text
    csrf = hidden(page.text, "csrf_token")
    for action in ("remove", "reconnect"):
        r = await driver.post(f"{path}/integrations/{b_uuid}/{action}", {"csrf_token": csrf})
        assert r.status_code == 404
    assert (await driver.get(f"{path}/integrations/{b_uuid}/remove")).status_code == 404
    # The API's delete with A's session cannot reach B's integration either.
    r = await client.delete(
        f"/customer-integrations/{b_uuid}?session_id={session_a['session_uuid']}",
        headers=a.headers,
    )
    assert r.status_code == 404
    [still] = await _integrations(client, b.headers)
    assert still["uuid"] == b_uuid


async def test_a_grant_belongs_to_the_session_that_started_it(
    client: httpx.AsyncClient, make_tenant: Any, driver: Driver
) -> None:
    a = await make_tenant("Agency A")
    b = await make_tenant("Agency B")
    session_a = await new_session(client, a.headers)
    session_b = await new_session(client, b.headers)
    callback = await driver.authorize(
        await driver.start(session_path(session_a), "instagram_business")
    )
    r = await driver.get(callback)
    pick_a = r.headers["location"]
    grant = pick_a.rsplit("/", 1)[1]
    pick_b = f"{session_path(session_b)}/pick/{grant}"
    assert (await driver.get(pick_b)).status_code == 410
    page_b = await driver.get(session_path(session_b))
    r = await driver.post(
        pick_b, {"csrf_token": hidden(page_b.text, "csrf_token"), "account": "17841400000000001"}
    )
    assert r.status_code == 410
    assert await _integrations(client, b.headers) == []


# --- CSRF -----------------------------------------------------------------------------


async def test_forms_need_the_session_csrf_token_and_our_origin(
    client: httpx.AsyncClient, make_tenant: Any, driver: Driver
) -> None:
    a = await make_tenant("Agency A")
    b = await make_tenant("Agency B")
    session_a = await new_session(client, a.headers)
    session_b = await new_session(client, b.headers)
    path = session_path(session_a)
    other_csrf = hidden((await driver.get(session_path(session_b))).text, "csrf_token")
    own_csrf = hidden((await driver.get(path)).text, "csrf_token")
    target = f"{path}/connect/instagram_business"
    assert (await driver.post(target, {})).status_code == 403
    assert (await driver.post(target, {"csrf_token": "0" * 64})).status_code == 403
    assert (await driver.post(target, {"csrf_token": other_csrf})).status_code == 403
    r = await client.post(
        target, data={"csrf_token": own_csrf}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    r = await client.post(
        target, data={"csrf_token": own_csrf}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert r.status_code == 403
    for same in ({"Origin": "http://testserver"}, {"Sec-Fetch-Site": "same-origin"}):
        r = await client.post(target, data={"csrf_token": own_csrf}, headers=same)
        assert r.status_code == 303


# --- secrets --------------------------------------------------------------------------


async def test_no_token_appears_in_a_url_a_log_line_or_a_page(
    client: httpx.AsyncClient,
    tenant: Any,
    driver: Driver,
    emulators: Emulators,
    runtime: Runtime,
) -> None:
    with capture_logs() as logs:
        session = await new_session(client, tenant.headers)
        path = session_path(session)
        for slug in ("instagram_business", "facebook_ads", "google_analytics_4"):
            done = await driver.connect(path, slug)
            assert done.status_code == 303
        await driver.get(path)
    tokens = emulators.issued_tokens()
    assert len(tokens) >= 6  # short + long per Facebook login, access + refresh at Google
    stored = []
    async with runtime.db.session() as db:
        for row in await db.scalars(select(CustomerIntegration)):
            stored.append(runtime.vault.decrypt_json(row.credentials_encrypted)["access_token"])
    assert set(stored) <= set(tokens)

    upstream_urls = [
        str(r.url)
        for r in emulators.facebook_upstream.requests + emulators.google_upstream.requests
    ]
    log_text = json.dumps(logs, default=str)
    for token in tokens:
        for url in driver.trail.urls + upstream_urls:
            assert token not in url
        for page in driver.trail.pages:
            assert token not in page
        assert token not in log_text
    # The account listing authenticated by header, and the logs did record the flow.
    assert any("/me/accounts" in u for u in upstream_urls)
    assert {"connect_started", "connect_authorized", "connect_integration_saved"} <= {
        e["event"] for e in logs
    }


async def test_the_sandbox_client_secret_never_reaches_a_page_or_url(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    session = await new_session(client, tenant.headers)
    await driver.connect(session_path(session), "google_analytics_4")
    secrets = [runtime.settings.facebook_login_client_secret, runtime.settings.google_client_secret]
    for secret in secrets:
        assert secret
        assert all(secret not in u for u in driver.trail.urls)
        assert all(secret not in p for p in driver.trail.pages)


# --- headers and markup ---------------------------------------------------------------


async def test_every_connect_response_carries_the_strict_headers(
    client: httpx.AsyncClient, tenant: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    path = session_path(session)
    page = await driver.get(path)
    assert_strict_headers(page)
    started = await driver.post(
        f"{path}/connect/instagram_business", {"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert started.status_code == 303
    assert_strict_headers(started)
    cookie = started.headers["set-cookie"].lower()
    assert cookie.startswith("mc_connect_")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/connect/oauth/" in cookie
    callback = await driver.authorize(started.headers["location"])
    back = await driver.get(callback)
    assert_strict_headers(back)
    picker = await driver.get(back.headers["location"])
    assert_strict_headers(picker)
    css = await client.get("/connect/static/connect.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert_strict_headers(css)
    forbidden = await driver.post(f"{path}/connect/instagram_business", {})
    assert_strict_headers(forbidden)
    for html in (page.text, picker.text):
        assert "<script" not in html and "style=" not in html and "<style" not in html
        assert '<link rel="stylesheet" href="/connect/static/connect.css">' in html
        assert 'name="viewport"' in html


async def test_the_done_button_is_the_merchant_redirect_url_and_only_http(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    session = await new_session(client, tenant.headers, "https://agency.example/done?x=1")
    page = await driver.get(session_path(session))
    assert 'href="https://agency.example/done?x=1"' in page.text
    async with runtime.db.session() as db:
        await db.execute(
            update(IntegrationSession)
            .where(IntegrationSession.uuid == session["session_uuid"])
            .values(redirect_url="javascript:alert(1)")
        )
        await db.commit()
    page = await driver.get(session_path(session))
    assert "javascript:" not in page.text
    assert "you can close this page" in page.text


@pytest.mark.parametrize("bad", ["../../etc", "a" * 100])
async def test_odd_session_ids_are_just_not_found(driver: Driver, bad: str) -> None:
    r = await driver.get(f"/customer-integrations/session/{bad}")
    assert r.status_code == 404
