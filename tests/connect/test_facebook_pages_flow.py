"""Connecting a Facebook Page: Facebook Login with the Page scopes, the Page picker
(GET /me/accounts), the integration on Pacific days holding the login's token only; its
first widgets swap that token for the Page's, which is then kept, encrypted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from metrics_connect import clock
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.networks.facebook.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.accounts import FACEBOOK_PAGE_ID, FACEBOOK_PAGE_NAME
from tests.connect.conftest import Driver, hidden, new_session, session_path

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


async def test_a_page_is_picked_and_its_token_is_asked_once_and_kept(
    client: httpx.AsyncClient,
    tenant: Any,
    driver: Driver,
    runtime: Runtime,
    served_networks: list[dict[str, str]],
) -> None:
    served_networks.append({"name": "Facebook Pages", "slug": "facebook"})
    session = await new_session(client, tenant.headers)
    authorize = await driver.start(session_path(session), "facebook")
    scopes = parse_qs(urlsplit(authorize).query)["scope"][0].split(",")
    assert {"pages_show_list", "pages_read_engagement", "read_insights"} <= set(scopes)
    offered = await driver.get(await driver.authorize(authorize))
    picker = await driver.get(offered.headers["location"])
    assert FACEBOOK_PAGE_NAME in picker.text
    done = await driver.post(
        offered.headers["location"],
        {"csrf_token": hidden(picker.text, "csrf_token"), "account": FACEBOOK_PAGE_ID},
    )
    assert done.status_code == 303, done.text
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration))
    assert row is not None
    assert (row.slug, row.external_id, row.timezone) == (
        "facebook",
        FACEBOOK_PAGE_ID,
        "America/Los_Angeles",
    )
    assert "page_access_token" not in runtime.vault.decrypt_json(row.credentials_encrypted)

    pages = build_sandbox()
    pages.controls.clock.set(NOW)
    runtime.upstream_transports["facebook"] = httpx.ASGITransport(app=pages.app)
    clock.set_clock(lambda: NOW)
    try:
        asked = await client.post(
            "/metrics/get-data",
            json={
                "customer_integration": row.uuid,
                "start": "2026-11-01",
                "end": "2026-11-07",
                "metrics": [
                    {
                        "id": "views",
                        "reference_key": "fb:page_impressions",
                        "component": "number_v1",
                        "metrics": ["page_impressions"],
                    },
                    {
                        "id": "posts",
                        "reference_key": "fb:page_posts_count",
                        "component": "number_v1",
                        "metrics": ["page_posts_count"],
                    },
                ],
            },
            headers=tenant.headers,
        )
    finally:
        clock.set_clock(None)
    assert asked.status_code == 200, asked.text
    assert asked.json()["views"]["values"] > 0 and asked.json()["posts"]["values"] > 0
    assert pages.controls.calls.by_endpoint["page"] == 1
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration))
    assert row is not None and row.status == "active"
    kept = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert kept["page_access_token"].startswith("sandbox-page-")
