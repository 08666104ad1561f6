"""The connect page's Google Ads picker: listAccessibleCustomers, then each manager's
hierarchy with login-customer-id; a client reached through a manager keeps its id."""

from __future__ import annotations

import httpx
import pytest

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.networks.google_ads import accounts
from metrics_connect.networks.google_ads.emulator.network import build_sandbox
from metrics_connect.settings import Settings

TOKEN = "sandbox-picker"


async def listed(developer_token: str, monkeypatch: pytest.MonkeyPatch) -> list[Candidate]:
    settings = Settings(google_ads_developer_token=developer_token)
    monkeypatch.setattr(accounts, "get_settings", lambda: settings)
    network = build_sandbox()
    transport = httpx.ASGITransport(app=network.app)
    async with httpx.AsyncClient(transport=transport) as http:
        return await accounts.list_accounts(http, "http://ads.test", "v27.0", TOKEN)


async def test_clients_directly_and_through_the_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    found = {c.external_id: c for c in await listed("dev-token", monkeypatch)}
    assert set(found) == {"1234567890", "5550001111"}  # the manager itself serves no metrics
    direct, via = found["1234567890"], found["5550001111"]
    assert (direct.name, direct.timezone, direct.extra) == (
        "Acme Coffee Roasters",
        "America/Sao_Paulo",
        {},
    )
    assert via.extra == {"login_customer_id": "9876543210"}
    assert via.timezone == "Europe/Berlin" and "EUR" in via.detail


async def test_without_a_developer_token_the_listing_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConnectFailed, match="HTTP 400"):
        await listed("", monkeypatch)
