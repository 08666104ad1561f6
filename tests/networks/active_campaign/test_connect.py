"""Connecting an account: the form's account URL vetted by the SSRF guard before any
connection (a name resolving to a private or metadata address, with a resolver stub),
and the live check reading the key's user and time zone, refusing a wrong key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from metrics_connect.connect import forms
from metrics_connect.connect.forms import form_transport_key
from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.jobs import ssrf
from metrics_connect.networks.active_campaign.accounts import check
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.active_campaign.test_connector import Counted, resolving

ACCOUNT = "https://acme.api-us1.com"
pytestmark = pytest.mark.asyncio(loop_scope="module")


def fields(sandbox: SandboxNetwork, url: str = ACCOUNT) -> dict[str, str]:
    return {
        "account_url": url,
        "access_token": str(sandbox.demo_account.credentials["access_token"]),
    }


@pytest.mark.parametrize("address", ["10.0.0.7", "169.254.169.254", "127.0.0.1"])
async def test_an_account_url_resolving_to_a_private_address_is_refused_before_any_connection(
    sandbox_clock: tuple[SandboxNetwork, Any],
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    address: str,
) -> None:
    sandbox, _ = sandbox_clock
    monkeypatch.setattr(ssrf, "system_resolver", resolving(address))
    runtime = Runtime.from_settings(settings_factory(sqlite_url))
    transport = Counted(sandbox.app)
    runtime.upstream_transports[form_transport_key("active_campaign")] = transport
    with pytest.raises(ConnectFailed) as raised:
        await forms.submit(
            None,  # type: ignore[arg-type]
            runtime,
            None,  # type: ignore[arg-type]
            "active_campaign",
            fields(sandbox),
            integration_uuid=None,
        )
    assert f"acme.api-us1.com ({address})" in str(raised.value)
    assert transport.calls == []


async def test_the_check_reads_the_user_and_refuses_a_wrong_key(
    sandbox_clock: tuple[SandboxNetwork, Any],
) -> None:
    sandbox, _ = sandbox_clock
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as http:
        (found,) = await check(http, fields(sandbox, ACCOUNT + "/api/3/"))
        assert (found.external_id, found.timezone) == ("acme", "America/Chicago")
        assert found.detail == sandbox.data.users[0]["email"]
        wrong = {**fields(sandbox), "access_token": "not-a-key"}
        with pytest.raises(ConnectFailed) as raised:
            await check(http, wrong)
        assert "refused this API key" in str(raised.value) and "not-a-key" not in str(raised.value)
        with pytest.raises(ConnectFailed) as plain:
            await check(http, fields(sandbox, "http://acme.api-us1.com"))
        assert str(plain.value) == "The account URL must start with https://."
