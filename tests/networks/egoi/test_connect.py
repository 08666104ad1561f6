"""Connecting E-goi on the connect page: the API key form (a password field, never sent
back), checked live against the network's own host (`GET /my-account`), then the
account picked and saved; a refused key is shown and nothing is saved."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connect.forms import form_transport_key
from metrics_connect.networks.egoi.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.settings import Settings
from tests.connect.conftest import hidden, new_session, session_path


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    rt = Runtime.from_settings(settings)
    rt.upstream_transports[form_transport_key("egoi")] = httpx.ASGITransport(
        app=build_sandbox().app
    )
    return rt


async def _submit(client: httpx.AsyncClient, tenant: Any, key: str) -> httpx.Response:
    path = session_path(await new_session(client, tenant.headers))
    form = await client.get(f"{path}/form/egoi")
    assert form.status_code == 200, form.text
    assert "Sign in with your E-goi API key" in form.text
    assert 'type="password"' in form.text
    return await client.post(
        f"{path}/form/egoi",
        data={"csrf_token": hidden(form.text, "csrf_token"), "access_token": key},
    )


async def test_the_api_key_form_connects_the_account(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime
) -> None:
    r = await _submit(client, tenant, DEMO_ACCESS_TOKEN)
    assert r.status_code == 303, r.text
    picker = await client.get(r.headers["location"])
    assert "Pastelaria Aurora" in picker.text and DEMO_ACCESS_TOKEN not in picker.text
    done = await client.post(
        r.headers["location"],
        data={"csrf_token": hidden(picker.text, "csrf_token"),
              "account": hidden(picker.text, "account")},
    )  # fmt: skip
    assert done.headers["location"].endswith("?notice=connected")
    async with runtime.db.session() as session:
        saved = (await session.execute(select(CustomerIntegration))).scalars().all()
    assert [(i.slug, i.external_id) for i in saved] == [("egoi", "1041152")]


async def test_a_refused_key_is_shown_and_nothing_is_saved(
    client: httpx.AsyncClient, tenant: Any, runtime: Runtime
) -> None:
    r = await _submit(client, tenant, "not-a-key")
    assert r.status_code == 422 and "refused this API key" in r.text
    assert "not-a-key" not in r.text
    async with runtime.db.session() as session:
        assert (await session.execute(select(CustomerIntegration))).scalars().all() == []
