"""Tokens are stored only as hashes and never written to logs; credentials are encrypted."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import create_engine, text

from metrics_connect.db.engine import sync_url
from metrics_connect.runtime import Runtime
from tests.api.test_customer_integrations import add_integration
from tests.conftest import Tenant


def _dump_database(url: str) -> str:
    engine = create_engine(sync_url(url))
    out = []
    with engine.connect() as conn:
        for table in ("merchants", "customers", "customer_integrations", "integration_sessions"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                out.append(repr(tuple(row)))
    engine.dispose()
    return "\n".join(out)


async def test_tokens_and_credentials_never_stored_in_plain_text(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    r = await client.post("/customers", json={"name": "Shop"}, headers=tenant.merchant_headers)
    new_token = r.json()["customer"]["api_token"]
    settings = (await client.get("/merchants/settings", headers=tenant.merchant_headers)).json()
    webhook_secret = settings["merchant"]["webhook_secret"]
    await add_integration(runtime, tenant)
    dump = _dump_database(runtime.settings.database_url)
    for secret in (
        tenant.merchant_token,
        tenant.customer_token,
        new_token,
        webhook_secret,
        "secret-upstream-token",
    ):
        assert secret not in dump


async def test_tokens_never_appear_in_logs(
    client: httpx.AsyncClient, tenant: Tenant, capfd: pytest.CaptureFixture[str]
) -> None:
    r = await client.post("/customers", json={"name": "Shop"}, headers=tenant.merchant_headers)
    new_token = r.json()["customer"]["api_token"]
    await client.get("/customers/settings", headers=tenant.headers)
    await client.get("/merchants/settings", headers={"Authorization": "Bearer leaked-guess"})
    s = (await client.post("/customer-integrations/session", headers=tenant.headers)).json()
    session_uuid = s["integration_session"]["session_uuid"]
    await client.get(f"/customer-integrations/session/{session_uuid}")
    out, err = capfd.readouterr()
    logs = out + err
    assert '"event": "request"' in logs  # the access log was captured
    for secret in (tenant.merchant_token, tenant.customer_token, new_token, "leaked-guess"):
        assert secret not in logs
    assert session_uuid not in logs
