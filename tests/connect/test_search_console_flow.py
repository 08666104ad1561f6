"""Connecting a Search Console property: Google sign-in with the webmasters.readonly
scope, the property picker (sites.list: the readable properties only), the integration
on Pacific-time days."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.runtime import Runtime
from tests.connect.conftest import Driver, hidden, new_session, session_path

SCOPE = "https://www.googleapis.com/auth/webmasters.readonly"


async def test_a_property_is_picked_among_the_readable_ones(
    client: httpx.AsyncClient,
    tenant: Any,
    driver: Driver,
    runtime: Runtime,
    served_networks: list[dict[str, str]],
) -> None:
    served_networks.append({"name": "Google Search Console", "slug": "search_console"})
    session = await new_session(client, tenant.headers)
    authorize = await driver.start(session_path(session), "search_console")
    assert parse_qs(urlsplit(authorize).query)["scope"] == [SCOPE]
    callback = await driver.authorize(authorize)

    offered = await driver.get(callback)
    picker = await driver.get(offered.headers["location"])
    assert "sc-domain:acmecoffee.example" in picker.text
    assert "https://blog.acmecoffee.example/" in picker.text
    assert "old.acmecoffee.example" not in picker.text  # unverified: no data to read

    done = await driver.post(
        offered.headers["location"],
        {
            "csrf_token": hidden(picker.text, "csrf_token"),
            "account": "https://blog.acmecoffee.example/",
        },
    )
    assert done.status_code == 303, done.text
    async with runtime.db.session() as db:
        row = await db.scalar(select(CustomerIntegration))
    assert row is not None
    assert (row.slug, row.external_id, row.timezone) == (
        "search_console",
        "https://blog.acmecoffee.example/",
        "America/Los_Angeles",
    )
    credentials = runtime.vault.decrypt_json(row.credentials_encrypted)
    assert credentials["refresh_token"].startswith("sandbox-")
