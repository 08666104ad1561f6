"""Connecting a store: the form's store URL vetted by the SSRF guard before any
connection (a name resolving to a private address, with a resolver stub), and the live
check reading the store's name, time zone and currency with the key pair."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from metrics_connect.connect import forms
from metrics_connect.connect.forms import form_transport_key
from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.jobs import ssrf
from metrics_connect.networks.woo_commerce.accounts import check, site_zone
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.networks.woo_commerce.test_connector import Counted, resolving

STORE = "https://shop.example.com"


def fields(sandbox: SandboxNetwork, key: int = 0, store: str = STORE) -> dict[str, str]:
    pair = sandbox.data.spec["keys"][key]
    return {"store_url": store, **{k: pair[k] for k in ("consumer_key", "consumer_secret")}}


@pytest.mark.parametrize("address", ["10.0.0.7", "127.0.0.1", "169.254.169.254", "fd00::1"])
async def test_a_store_url_resolving_to_a_private_address_is_refused_before_any_connection(
    store_sandbox: SandboxNetwork,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    address: str,
) -> None:
    monkeypatch.setattr(ssrf, "system_resolver", resolving(address))
    runtime = Runtime.from_settings(settings_factory(sqlite_url))
    transport = Counted(store_sandbox.app)
    runtime.upstream_transports[form_transport_key("woo_commerce")] = transport
    record: Any = None  # never reached: the guard refuses first
    with pytest.raises(ConnectFailed) as raised:
        await forms.submit(
            None,  # type: ignore[arg-type]
            runtime,
            record,
            "woo_commerce",
            fields(store_sandbox),
            integration_uuid=None,
        )
    assert str(raised.value).startswith(
        f"Store URL (https://...): The host shop.example.com ({address})"
    )
    assert transport.calls == []
    assert "webhook" not in str(raised.value)  # a store, not a webhook


async def test_the_check_reads_the_store_and_refuses_what_cannot_read_it(
    store_sandbox: SandboxNetwork,
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=store_sandbox.app)) as http:
        (found,) = await check(http, fields(store_sandbox, store=STORE + "/"))
        assert (found.external_id, found.name, found.timezone) == (
            STORE,
            "Acme Coffee Store",
            "America/Sao_Paulo",
        )
        assert found.detail == f"{STORE} (BRL)"
        refusals = {
            "This key cannot read the store: give it Read permissions.": fields(store_sandbox, 1),
            "The store refused this consumer key and secret.": {
                **fields(store_sandbox),
                "consumer_secret": "cs_wrong",
            },
            "The store URL must start with https://.": fields(
                store_sandbox, store="http://shop.example.com"
            ),
        }
        for message, values in refusals.items():
            with pytest.raises(ConnectFailed) as raised:
                await check(http, values)
            assert str(raised.value) == message
            assert values["consumer_secret"] not in str(raised.value)


def test_the_time_zone_from_the_site_index() -> None:
    assert site_zone({"timezone_string": "America/Sao_Paulo", "gmt_offset": "-3"}) == (
        "America/Sao_Paulo"
    )
    assert site_zone({"timezone_string": "", "gmt_offset": "-3"}) == "Etc/GMT+3"
    assert site_zone({"timezone_string": "", "gmt_offset": 0}) == "UTC"
    assert site_zone({"timezone_string": "", "gmt_offset": "5.5"}) is None
