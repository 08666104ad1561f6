"""Connect-page fixtures: the app wired to in-process OAuth emulators, and a
browserless driver that follows the flow the way a browser would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from metrics_connect.connect.flow import oauth_transport_key
from metrics_connect.connect.service import binding_cookie_name
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.oauth import (
    FacebookOAuthApp,
    GoogleOAuthApp,
    build_facebook_oauth,
    build_google_oauth,
    oauth_settings_overrides,
)
from metrics_connect.settings import Settings

APP_BASE = "http://testserver"
FACEBOOK_BASE = "http://facebook.sandbox"
GOOGLE_BASE = "http://google.sandbox"


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests to an emulator and keeps what the service sent upstream."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@dataclass
class Emulators:
    facebook: FacebookOAuthApp
    google: GoogleOAuthApp
    facebook_upstream: RecordingTransport
    google_upstream: RecordingTransport

    def issued_tokens(self) -> list[str]:
        return [*self.facebook.server.tokens, *self.google.server.tokens]


ALL_NETWORKS = [
    {"name": "Instagram Business", "slug": "instagram_business"},
    {"name": "Meta Ads", "slug": "facebook_ads"},
    {"name": "Google Analytics 4", "slug": "google_analytics_4"},
]


@pytest.fixture(autouse=True)
def served_networks(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The page offers what the catalog serves; here, every network with a provider,
    whichever connectors this build has (the flow up to the integration is ours)."""
    networks = [dict(n) for n in ALL_NETWORKS]
    monkeypatch.setattr("metrics_connect.connect.pages.available_integrations", lambda: networks)
    return networks


@pytest.fixture
def emulators() -> Emulators:
    fb = build_facebook_oauth(redirect_uris=(f"{APP_BASE}/connect/oauth/facebook_login/callback",))
    google = build_google_oauth(redirect_uris=(f"{APP_BASE}/connect/oauth/google/callback",))
    return Emulators(
        fb,
        google,
        RecordingTransport(httpx.ASGITransport(app=fb.app)),
        RecordingTransport(httpx.ASGITransport(app=google.app)),
    )


@pytest.fixture
def connect_db_url(sqlite_url: str) -> str:
    """SQLite for most connect tests; test_backends.py runs the core on every backend."""
    return sqlite_url


@pytest.fixture
def settings(connect_db_url: str, settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(
        connect_db_url,
        # Nothing listens there: the Instagram time-zone lookup fails fast and falls back.
        instagram_api_base_url="http://127.0.0.1:9",
        **oauth_settings_overrides({"facebook_login": FACEBOOK_BASE, "google": GOOGLE_BASE}),
    )


@pytest.fixture
def runtime(settings: Settings, emulators: Emulators) -> Runtime:
    rt = Runtime.from_settings(settings)
    rt.upstream_transports[oauth_transport_key("facebook_login")] = emulators.facebook_upstream
    rt.upstream_transports[oauth_transport_key("google")] = emulators.google_upstream
    return rt


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} in page"
    return unescape(match.group(1))


def form_actions(html: str) -> list[str]:
    return [unescape(a) for a in re.findall(r'<form method="post" action="([^"]+)"', html)]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Trail:
    """Everything a browser would have seen: URLs visited and pages from our app."""

    urls: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    callback_url: str = ""
    # The flow's browser-binding cookie as it was before the callback spent it.
    binding_cookie: tuple[str, str] = ("", "")


class Driver:
    """Drives the connect page and the consent pages like a browser, without one."""

    def __init__(self, client: httpx.AsyncClient, emulators: Emulators) -> None:
        self.client = client
        self.providers = {
            "facebook": httpx.AsyncClient(
                transport=httpx.ASGITransport(app=emulators.facebook.app), base_url=FACEBOOK_BASE
            ),
            "google": httpx.AsyncClient(
                transport=httpx.ASGITransport(app=emulators.google.app), base_url=GOOGLE_BASE
            ),
        }
        self.trail = Trail()

    async def aclose(self) -> None:
        for c in self.providers.values():
            await c.aclose()

    async def get(self, url: str) -> httpx.Response:
        self.trail.urls.append(url)
        r = await self.client.get(path_of(url))
        self.trail.pages.append(r.text)
        return r

    async def post(self, url: str, data: dict[str, str]) -> httpx.Response:
        self.trail.urls.append(url)
        r = await self.client.post(path_of(url), data=data)
        self.trail.pages.append(r.text)
        return r

    async def authorize(self, authorize_url: str, decision: str = "allow") -> str:
        """Consent at the emulator; returns the callback URL it redirects to."""
        self.trail.urls.append(authorize_url)
        host = urlsplit(authorize_url).netloc
        provider = self.providers["facebook" if host.startswith("facebook") else "google"]
        consent = await provider.get(path_of(authorize_url))
        assert consent.status_code == 200, consent.text
        action = form_actions(consent.text)[0]
        answer = await provider.post(
            action, data={"ticket": hidden(consent.text, "ticket"), "decision": decision}
        )
        assert answer.status_code == 302
        callback = answer.headers["location"].split("#", 1)[0]
        self.trail.urls.append(callback)
        self.trail.callback_url = callback
        state = parse_qs(urlsplit(callback).query).get("state", [""])[0]
        name = binding_cookie_name(state)
        self.trail.binding_cookie = (name, self.client.cookies.get(name, "") or "")
        return callback

    async def start(self, session_path: str, slug: str) -> str:
        page = await self.get(session_path)
        r = await self.post(
            f"{session_path}/connect/{slug}", {"csrf_token": hidden(page.text, "csrf_token")}
        )
        assert r.status_code == 303, r.text
        return r.headers["location"]

    async def start_reconnect(self, session_path: str, integration_uuid: str) -> str:
        page = await self.get(session_path)
        r = await self.post(
            f"{session_path}/integrations/{integration_uuid}/reconnect",
            {"csrf_token": hidden(page.text, "csrf_token")},
        )
        assert r.status_code == 303, r.text
        return r.headers["location"]

    async def finish(self, callback: str, account: str | None = None) -> httpx.Response:
        """Callback, picker, pick: returns the final answer (a 303 to the session page)."""
        r = await self.get(callback)
        assert r.status_code == 303, r.text
        pick_path = r.headers["location"]
        self.trail.urls.append(pick_path)
        picker = await self.get(pick_path)
        assert picker.status_code == 200, picker.text
        chosen = account or hidden(picker.text, "account")
        done = await self.post(
            pick_path, {"csrf_token": hidden(picker.text, "csrf_token"), "account": chosen}
        )
        if done.status_code == 303:
            self.trail.urls.append(done.headers["location"])
        return done

    async def connect(self, session_path: str, slug: str) -> httpx.Response:
        return await self.finish(await self.authorize(await self.start(session_path, slug)))


@pytest.fixture
async def driver(client: httpx.AsyncClient, emulators: Emulators) -> AsyncIterator[Driver]:
    d = Driver(client, emulators)
    yield d
    await d.aclose()


async def new_session(
    client: httpx.AsyncClient, headers: dict[str, str], redirect_url: str | None = None
) -> dict[str, Any]:
    body = {"redirect_url": redirect_url} if redirect_url else {}
    r = await client.post("/customer-integrations/session", json=body, headers=headers)
    assert r.status_code == 200, r.text
    session: dict[str, Any] = r.json()["integration_session"]
    return session


def session_path(session: dict[str, Any]) -> str:
    return path_of(session["session_link"])
