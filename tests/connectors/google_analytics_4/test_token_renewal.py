"""A renewed access token is kept: the next request starts with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from metrics_connect import clock
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.api.app import create_app
from metrics_connect.networks.google_analytics_4.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.accounts import DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.oauth import build_google_oauth, oauth_settings_overrides
from metrics_connect.settings import Settings
from tests.conftest import connect_account
from tests.connectors.google_analytics_4.test_connector import HostRouter

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
USERS = {"id": "u", "reference_key": "x", "component": "number_v1", "metrics": ["activeUsers"]}


async def test_a_renewed_token_is_stored_and_used_by_the_next_request(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    network = build_sandbox()
    network.controls.clock.set(NOW)
    network.controls.switches.expired_tokens.add("sandbox-stale")  # type: ignore[attr-defined]
    oauth = build_google_oauth()
    settings = settings_factory(
        sqlite_url,
        google_analytics_4_api_base_url="http://analyticsdata.test",
        **oauth_settings_overrides({"google": "http://google.test"}),
    )
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["google_analytics_4"] = HostRouter(
        {
            "analyticsdata.test": httpx.ASGITransport(app=network.app),
            "google.test": httpx.ASGITransport(app=oauth.app),
        }
    )
    app = create_app(runtime=runtime)
    clock.set_clock(lambda: NOW)
    try:
        async with app.router.lifespan_context(app):
            demo = network.demo_account
            stale = {"access_token": "sandbox-stale", "refresh_token": DEMO_REFRESH_TOKEN}
            account = await connect_account(runtime, "google_analytics_4", demo, credentials=stale)
            headers = account.headers
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for start, end in (("2026-11-01", "2026-11-10"), ("2026-10-01", "2026-10-10")):
                    body = {"customer_integration": account.integration_uuid, "metrics": [USERS]}
                    body |= {"start": start, "end": end}
                    answer = await client.post("/metrics/get-data", json=body, headers=headers)
                    assert answer.status_code == 200
                    assert isinstance(answer.json()["u"]["values"], int)
            async with runtime.db.session() as session:
                row = await session.get(CustomerIntegration, account.integration_id)
                assert row is not None
                stored = runtime.vault.decrypt_json(row.credentials_encrypted)
    finally:
        clock.set_clock(None)
    assert stored["access_token"] != "sandbox-stale"
    assert stored["refresh_token"] == DEMO_REFRESH_TOKEN
    # Renewed once, on the first request; the second started with the stored token.
    assert oauth.server.controls.calls.by_endpoint["token"] == 1
