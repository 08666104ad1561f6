"""The connect page's property picker: sites.list of the login, unverified ones left out,
asked where Google serves it."""

from __future__ import annotations

import httpx
import pytest

from metrics_connect.connect.discovery import ConnectFailed
from metrics_connect.networks.search_console.accounts import list_accounts, sites_host
from metrics_connect.networks.search_console.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.oauth import build_google_oauth


async def test_the_google_emulator_lists_the_readable_properties() -> None:
    google = build_google_oauth()
    transport = httpx.ASGITransport(app=google.app)
    async with httpx.AsyncClient(transport=transport) as http:
        found = await list_accounts(http, "http://google.test", "", DEMO_ACCESS_TOKEN)
    assert [(c.external_id, c.detail) for c in found] == [
        ("sc-domain:acmecoffee.example", "Domain property · Owner"),
        ("https://www.acmecoffee.example/", "URL-prefix property · Full user"),
        ("https://blog.acmecoffee.example/", "URL-prefix property · Restricted user"),
    ]
    assert found[0].name == "acmecoffee.example"
    assert {c.timezone for c in found} == {"America/Los_Angeles"}
    assert google.server.controls.calls.by_endpoint["sites.list"] == 1


async def test_the_search_console_emulator_answers_the_same_listing() -> None:
    network = build_sandbox()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=network.app)) as http:
        found = await list_accounts(http, "http://searchconsole.test", "", DEMO_ACCESS_TOKEN)
    assert found[0].external_id == "sc-domain:acmecoffee.example"
    assert len(found) == 3


async def test_a_refused_listing_is_a_connect_failure() -> None:
    network = build_sandbox()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=network.app)) as http:
        with pytest.raises(ConnectFailed):
            await list_accounts(http, "http://searchconsole.test", "", "not-a-sandbox-token")


def test_sites_are_asked_on_the_search_console_host_in_production() -> None:
    assert sites_host("https://analyticsadmin.googleapis.com") == (
        "https://searchconsole.googleapis.com"
    )
    assert sites_host("http://127.0.0.1:8123/") == "http://127.0.0.1:8123"
