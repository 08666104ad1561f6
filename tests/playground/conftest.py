"""Playground fixtures: the app with the Instagram emulator in-process, a merchant whose
customer has the emulator's account connected, and a browserless sign-in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from html import unescape

import httpx
import pytest
from fastapi import FastAPI

from metrics_connect.api.app import create_app
from metrics_connect.networks.instagram_business.emulator.network import (
    InstagramSandboxNetwork,
    build_sandbox,
)
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import ConnectedAccount, connect_account, serving

GRAPH_URL = "http://graph.test"


@pytest.fixture
def ig_network() -> InstagramSandboxNetwork:
    return build_sandbox()


@pytest.fixture
def pg_settings(sqlite_url: str, settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(sqlite_url, instagram_api_base_url=GRAPH_URL)


@pytest.fixture
def pg_runtime(pg_settings: Settings, ig_network: InstagramSandboxNetwork) -> Runtime:
    runtime = Runtime.from_settings(pg_settings)
    runtime.upstream_transports["instagram_business"] = httpx.ASGITransport(app=ig_network.app)
    return runtime


@pytest.fixture
def pg_app(pg_runtime: Runtime) -> FastAPI:
    return create_app(runtime=pg_runtime)


@pytest.fixture
async def pg_client(pg_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(pg_app) as client:
        yield client


@pytest.fixture
async def account(pg_runtime: Runtime, ig_network: InstagramSandboxNetwork) -> ConnectedAccount:
    return await connect_account(pg_runtime, "instagram_business", ig_network.demo_account)


def merchant_token(account: ConnectedAccount) -> str:
    return account.headers["Authorization"].removeprefix("Bearer ")


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} in the page"
    return unescape(match.group(1))


@dataclass
class SignedIn:
    client: httpx.AsyncClient
    csrf: str


async def sign_in(client: httpx.AsyncClient, token: str) -> SignedIn:
    page = await client.get("/playground")
    assert page.status_code == 200
    r = await client.post(
        "/playground/sign-in", data={"token": token, "csrf_token": hidden(page.text, "csrf_token")}
    )
    assert r.status_code == 303, r.text
    home = await client.get("/playground")
    assert "Sign out" in home.text
    return SignedIn(client, hidden(home.text, "csrf_token"))
