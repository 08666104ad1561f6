"""The connect flow, browserless: consent, pick, and the integration it creates."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.engine.tables import fact_rows
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox import accounts as sandbox
from tests.connect.conftest import Driver, Emulators, new_session, session_path


async def _integrations(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Any]:
    r = await client.get("/customer-integrations", headers=headers)
    assert r.status_code == 200
    data: list[Any] = r.json()["data"]
    return data


async def _row(runtime: Runtime, uuid: str) -> CustomerIntegration:
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration).where(CustomerIntegration.uuid == uuid))
        assert row is not None
        return row


async def test_instagram_connect_creates_an_active_integration(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    session = await new_session(client, tenant.headers)
    done = await driver.connect(session_path(session), "instagram_business")
    assert done.status_code == 303
    assert done.headers["location"].endswith("?notice=connected")

    [listed] = await _integrations(client, tenant.headers)
    assert listed["status"] == "active"
    assert listed["integration"]["slug"] == "instagram_business"
    assert listed["source_name"] == f"@{sandbox.INSTAGRAM_USERNAME}"

    row = await _row(runtime, listed["uuid"])
    assert row.external_id == sandbox.INSTAGRAM_USER_ID
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    # The long-lived token from fb_exchange_token, not the one-hour login token.
    assert credentials["access_token"].startswith("sandbox-fb-long-")
    assert credentials["page_id"] == sandbox.FACEBOOK_PAGE_ID
    assert credentials["access_token"].encode() not in row.credentials_encrypted
    # The Graph API has no Instagram time zone: the connecting user's (UTC-3) is kept.
    assert row.timezone == "Etc/GMT+3"

    page = await driver.get(done.headers["location"])
    assert "Connected." in page.text
    assert f"@{sandbox.INSTAGRAM_USERNAME}" in page.text


async def test_pkce_and_client_secret_reach_the_token_endpoint(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, emulators: Emulators
) -> None:
    session = await new_session(client, tenant.headers)
    authorize = await driver.start(session_path(session), "instagram_business")
    assert "code_challenge=" in authorize and "code_challenge_method=S256" in authorize
    assert "state=" in authorize
    await driver.finish(await driver.authorize(authorize))
    bodies = [
        r.content.decode() for r in emulators.facebook_upstream.requests if r.method == "POST"
    ]
    assert any("grant_type=authorization_code" in b and "code_verifier=" in b for b in bodies)
    assert any("grant_type=fb_exchange_token" in b for b in bodies)


async def test_meta_ads_connect_takes_the_ad_account_time_zone(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    session = await new_session(client, tenant.headers)
    done = await driver.connect(session_path(session), "facebook_ads")
    assert done.status_code == 303
    [listed] = await _integrations(client, tenant.headers)
    row = await _row(runtime, listed["uuid"])
    assert (row.slug, row.external_id, row.timezone) == (
        "facebook_ads",
        sandbox.AD_ACCOUNT_ID,
        sandbox.AD_ACCOUNT_TIMEZONE,
    )
    assert row.source_name == sandbox.AD_ACCOUNT_NAME


async def test_ga4_connect_keeps_a_refresh_token_and_the_property_time_zone(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    session = await new_session(client, tenant.headers)
    authorize = await driver.start(session_path(session), "google_analytics_4")
    assert "access_type=offline" in authorize and "code_challenge=" in authorize
    done = await driver.finish(await driver.authorize(authorize))
    assert done.status_code == 303
    [listed] = await _integrations(client, tenant.headers)
    row = await _row(runtime, listed["uuid"])
    assert row.external_id == sandbox.GA4_PROPERTY_ID
    assert row.timezone == sandbox.GA4_TIMEZONE
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert credentials["refresh_token"].startswith("sandbox-ga-refresh-")
    assert credentials["access_token"].startswith("sandbox-ga-access-")
    assert "expires_at" in credentials


async def test_declined_consent_connects_nothing(
    client: httpx.AsyncClient, tenant: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    callback = await driver.authorize(
        await driver.start(session_path(session), "instagram_business"), decision="deny"
    )
    r = await driver.get(callback)
    assert r.status_code == 303
    assert r.headers["location"].endswith("?notice=denied")
    assert await _integrations(client, tenant.headers) == []


async def test_reconnect_keeps_the_uuid_and_refreshes_credentials_in_place(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    session = await new_session(client, tenant.headers)
    path = session_path(session)
    await driver.connect(path, "instagram_business")
    [first] = await _integrations(client, tenant.headers)
    original = await _row(runtime, first["uuid"])
    before = runtime.vault.decrypt_json(original.credentials_encrypted)
    async with runtime.db.session() as db:
        # An archived snapshot the network no longer serves, kept under the integration.
        await db.execute(
            insert(fact_rows).values(
                integration_id=original.id,
                dataset="followers_snapshot",
                variant="",
                day=date(2026, 1, 1),
                keys="{}",
                vals='{"followers_count": 1234}',
            )
        )
        await db.execute(
            update(CustomerIntegration)
            .where(CustomerIntegration.uuid == first["uuid"])
            .values(status="expired", status_reason="token expired")
        )
        await db.commit()

    page = await driver.get(path)
    assert "Expired" in page.text and "Reconnect" in page.text
    done = await driver.finish(
        await driver.authorize(await driver.start_reconnect(path, first["uuid"]))
    )
    assert done.headers["location"].endswith("?notice=reconnected")

    [again] = await _integrations(client, tenant.headers)
    assert again["uuid"] == first["uuid"]
    assert again["status"] == "active"
    row = await _row(runtime, first["uuid"])
    assert row.status_reason is None
    after = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert after["access_token"] != before["access_token"]
    async with runtime.db.session() as db:
        assert await db.scalar(select(func.count()).select_from(CustomerIntegration)) == 1
        archived = await db.scalar(
            select(func.count()).select_from(fact_rows).where(fact_rows.c.integration_id == row.id)
        )
    assert row.id == original.id and archived == 1


async def test_connecting_the_same_account_again_does_not_duplicate_it(
    client: httpx.AsyncClient, tenant: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    await driver.connect(session_path(session), "facebook_ads")
    done = await driver.connect(session_path(session), "facebook_ads")
    assert done.headers["location"].endswith("?notice=reconnected")
    assert len(await _integrations(client, tenant.headers)) == 1


async def test_remove_form_deletes_with_the_live_session(
    client: httpx.AsyncClient, tenant: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    path = session_path(session)
    await driver.connect(path, "facebook_ads")
    [listed] = await _integrations(client, tenant.headers)
    page = await driver.get(path)
    remove = f"{path}/integrations/{listed['uuid']}/remove"
    assert f'href="{remove}"' in page.text
    confirm = await driver.get(remove)
    assert confirm.status_code == 200
    assert "Remove Meta Ads?" in confirm.text
    assert f'action="{remove}"' in confirm.text
    csrf = confirm.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = await driver.post(remove, {"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=removed")
    assert await _integrations(client, tenant.headers) == []
    r = await client.get(f"/customer-integrations/{listed['uuid']}", headers=tenant.headers)
    assert r.status_code == 404


async def test_removing_on_the_connect_page_takes_effect_at_once(
    client: httpx.AsyncClient, tenant: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    path = session_path(session)
    await driver.connect(path, "facebook_ads")
    [listed] = await _integrations(client, tenant.headers)
    ask = {
        "customer_integration": listed["uuid"],
        "start": "2026-01-01",
        "end": "2026-01-31",
        "metrics": [{"id": "w", "component": "number_v1", "metrics": ["impressions"]}],
    }
    # A metrics request puts the integration in this process's auth cache.
    r = await client.post("/metrics/get-data?explain=true", json=ask, headers=tenant.headers)
    assert r.status_code == 200, r.text
    remove = f"{path}/integrations/{listed['uuid']}/remove"
    confirm = await driver.get(remove)
    csrf = confirm.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert (await driver.post(remove, {"csrf_token": csrf})).status_code == 303
    r = await client.post("/metrics/get-data?explain=true", json=ask, headers=tenant.headers)
    assert r.status_code == 404, r.text


async def test_an_account_the_grant_did_not_list_is_refused(
    client: httpx.AsyncClient, tenant: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    callback = await driver.authorize(
        await driver.start(session_path(session), "instagram_business")
    )
    done = await driver.finish(callback, account="17841499999999999")
    assert done.status_code == 422
    assert await _integrations(client, tenant.headers) == []


async def test_unconfigured_provider_is_shown_unavailable(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    runtime.settings.google_client_id = None
    session = await new_session(client, tenant.headers)
    page = await driver.get(session_path(session))
    assert f"{session_path(session)}/connect/google_analytics_4" not in page.text
    assert "Not available on this server" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = await driver.post(
        f"{session_path(session)}/connect/google_analytics_4", {"csrf_token": csrf}
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=unavailable")


async def test_a_network_this_deployment_does_not_serve_cannot_be_started(
    client: httpx.AsyncClient,
    tenant: Any,
    driver: Driver,
    served_networks: list[dict[str, str]],
) -> None:
    served_networks[:] = [n for n in served_networks if n["slug"] == "instagram_business"]
    session = await new_session(client, tenant.headers)
    page = await driver.get(session_path(session))
    assert "Meta Ads" not in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = await driver.post(f"{session_path(session)}/connect/facebook_ads", {"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=unavailable")
    r = await driver.post(f"{session_path(session)}/connect/not_a_network", {"csrf_token": csrf})
    assert r.headers["location"].endswith("?notice=unavailable")


async def test_spent_states_and_grants_are_purged_an_hour_after_expiry(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime, frozen_clock: Any
) -> None:
    from metrics_connect.connect.models import OAuthGrant, OAuthState

    first = await new_session(client, tenant.headers)
    await driver.connect(session_path(first), "facebook_ads")
    frozen_clock.advance(hours=2)
    second = await new_session(client, tenant.headers)
    await driver.start(session_path(second), "facebook_ads")
    async with runtime.db.session() as db:
        states = list(await db.scalars(select(OAuthState)))
        grants = list(await db.scalars(select(OAuthGrant)))
    assert len(states) == 1 and states[0].used_at is None
    assert grants == []


async def test_a_provider_failure_returns_to_the_page_with_a_notice(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, emulators: Emulators
) -> None:
    session = await new_session(client, tenant.headers)
    callback = await driver.authorize(
        await driver.start(session_path(session), "instagram_business")
    )
    emulators.facebook.server.controls.switches.server_error_ratio = 1.0
    r = await driver.get(callback)
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=failed")
    page = await driver.get(r.headers["location"])
    assert "did not complete the sign-in" in page.text
    assert await _integrations(client, tenant.headers) == []


async def test_a_wrong_client_secret_fails_the_exchange_cleanly(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    runtime.settings.google_client_secret = "not-the-secret"
    session = await new_session(client, tenant.headers)
    callback = await driver.authorize(
        await driver.start(session_path(session), "google_analytics_4")
    )
    r = await driver.get(callback)
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=failed")
    assert await _integrations(client, tenant.headers) == []


async def test_the_page_groups_networks_and_finds_one_by_typing(
    client: httpx.AsyncClient, tenant: Any, driver: Driver
) -> None:
    session = await new_session(client, tenant.headers)
    page = await driver.get(session_path(session))
    text = page.text
    # Grouped by network.yaml `group`, in the page's order: social, ads, analytics.
    assert text.index(">Social<") < text.index("Instagram Business")
    assert text.index("Instagram Business") < text.index(">Ads<") < text.index("Meta Ads")
    assert text.index(">Analytics and search<") < text.index("Google Analytics 4")
    # The search works without JavaScript: a GET form that filters on the server.
    found = await driver.get(session_path(session) + "?q=meta")
    assert "Meta Ads" in found.text and ">Ads<" in found.text
    assert "Instagram Business" not in found.text and ">Social<" not in found.text
    none = await driver.get(session_path(session) + "?q=nothing-like-it")
    assert "No network matches" in none.text
