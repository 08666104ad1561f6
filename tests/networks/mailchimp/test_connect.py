"""Connecting Mailchimp: the login host's /oauth2/metadata names the token's data
center, the account picker reads the account there and keeps the API endpoint with the
credentials; the connector calls that data center, unless the operator points the
API host elsewhere (the sandbox, a proxy)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from metrics_connect.connectors.base import ConnectorContext
from metrics_connect.networks.mailchimp.accounts import list_accounts
from metrics_connect.networks.mailchimp.connector.hooks import MailchimpClient, MailchimpConnector
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.oauth.providers import build_provider_emulator


async def test_the_picker_reads_the_metadata_then_the_account() -> None:
    emulator = build_provider_emulator("mailchimp_login")
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport) as http:
        found = await list_accounts(http, "http://login.test", "", DEMO_ACCESS_TOKEN)
    assert len(found) == 1
    account = found[0]
    assert account.name == "Acme Coffee" and account.timezone == "America/Sao_Paulo"
    assert account.extra == {"api_endpoint": "http://login.test", "dc": "us21"}


def client(base_url: str, credentials: dict[str, Any]) -> MailchimpClient:
    ctx = ConnectorContext(
        integration_uuid="i",
        external_id="a",
        credentials=credentials,
        timezone="UTC",
        http=httpx.AsyncClient(),
        base_url=base_url,
        settings=None,
    )
    return MailchimpClient(ctx, MailchimpConnector.streams)


@pytest.mark.parametrize(
    ("base", "endpoint", "called"),
    [
        ("https://us1.api.mailchimp.com", "https://us21.api.mailchimp.com", "https://us21.api.mailchimp.com"),
        ("https://us1.api.mailchimp.com", "https://evil.example", "https://us1.api.mailchimp.com"),
        ("http://127.0.0.1:8100", "https://us21.api.mailchimp.com", "http://127.0.0.1:8100"),
        ("https://us1.api.mailchimp.com", "", "https://us1.api.mailchimp.com"),
    ],
)  # fmt: skip
def test_the_data_center_called(base: str, endpoint: str, called: str) -> None:
    assert client(base, {"api_endpoint": endpoint}).url("3.0/reports") == f"{called}/3.0/reports"
