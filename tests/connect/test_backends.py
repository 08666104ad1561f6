"""The connect flow's database work on every backend (SQLite, and PostgreSQL when set):
the atomic single use of states, in-place reconnect, tenancy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.runtime import Runtime
from tests.connect.conftest import Driver, hidden, new_session, session_path


@pytest.fixture
def connect_db_url(db_url: str) -> str:
    return db_url


async def test_connect_replay_and_reconnect_in_place(
    client: httpx.AsyncClient, tenant: Any, driver: Driver, runtime: Runtime
) -> None:
    session = await new_session(client, tenant.headers)
    path = session_path(session)
    done = await driver.connect(path, "instagram_business")
    assert done.headers["location"].endswith("?notice=connected")
    assert (await driver.get(driver.trail.callback_url)).status_code == 400

    r = await client.get("/customer-integrations", headers=tenant.headers)
    [first] = r.json()["data"]
    async with runtime.db.session() as db:
        await db.execute(
            update(CustomerIntegration)
            .where(CustomerIntegration.uuid == first["uuid"])
            .values(status="revoked")
        )
        await db.commit()
    done = await driver.finish(
        await driver.authorize(await driver.start_reconnect(path, first["uuid"]))
    )
    assert done.headers["location"].endswith("?notice=reconnected")
    r = await client.get("/customer-integrations", headers=tenant.headers)
    [again] = r.json()["data"]
    assert (again["uuid"], again["status"]) == (first["uuid"], "active")


async def test_another_customers_session_cannot_remove_it(
    client: httpx.AsyncClient, make_tenant: Any, driver: Driver
) -> None:
    a = await make_tenant("Agency A")
    b = await make_tenant("Agency B")
    await driver.connect(session_path(await new_session(client, b.headers)), "facebook_ads")
    [b_integration] = (await client.get("/customer-integrations", headers=b.headers)).json()["data"]
    path_a = session_path(await new_session(client, a.headers))
    csrf = hidden((await driver.get(path_a)).text, "csrf_token")
    r = await driver.post(
        f"{path_a}/integrations/{b_integration['uuid']}/remove", {"csrf_token": csrf}
    )
    assert r.status_code == 404
    assert len((await client.get("/customer-integrations", headers=b.headers)).json()["data"]) == 1
