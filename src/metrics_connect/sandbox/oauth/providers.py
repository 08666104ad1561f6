"""One sandbox emulator per declared OAuth provider, and the settings pointing at it.

A provider's `emulator` target builds its own (Facebook Login, Google: the generic
core plus their documented quirks and account listings); any other is served by the
sandbox kit's generic authorization server configured from its declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from starlette.types import ASGIApp

from metrics_connect.networks.registry import Provider, oauth_provider, providers
from metrics_connect.sandbox.oauth.server import RegisteredClient


class ProviderEmulator(Protocol):
    """What serve.py needs of a provider's emulator: its app and its registered client."""

    @property
    def app(self) -> ASGIApp: ...

    @property
    def client(self) -> RegisteredClient: ...


def build_provider_emulator(
    name: str, redirect_uris: tuple[str, ...] = (), **options: Any
) -> ProviderEmulator:
    """The emulator of the declared provider `name` (KeyError when none declares it)."""
    from metrics_connect.sandbox.kit.oauth_server import build_generic_oauth

    declared = oauth_provider(name)
    if declared is None:
        raise KeyError(name)
    if declared.spec.emulator:
        emulator: ProviderEmulator = declared.load(declared.spec.emulator)(
            declared.spec, redirect_uris
        )
        return emulator
    return build_generic_oauth(declared.spec, redirect_uris, **options)


def oauth_provider_names() -> list[str]:
    """Every declared provider: the sandbox serves one emulator for each."""
    return list(providers())


def _at(base: str, url: str | None) -> str | None:
    """`url` with its scheme and host replaced by the emulator's: the emulators serve the
    documented paths."""
    if not url:
        return None
    parts = urlsplit(url)
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


def provider_overrides(declared: Provider, base_url: str) -> dict[str, Any]:
    base = base_url.rstrip("/")
    client = build_provider_emulator(declared.name).client
    spec, name = declared.spec, declared.name
    out: dict[str, Any] = {
        f"{name}_client_id": client.client_id,
        f"{name}_client_secret": client.client_secret,
        f"{name}_authorize_url": _at(base, spec.authorize_url),
        f"{name}_token_url": _at(base, spec.token_url),
        f"{name}_api_base_url": base,
    }
    if spec.request_token_url:
        out[f"{name}_request_token_url"] = _at(base, spec.request_token_url)
    return out


def oauth_settings_overrides(base_urls: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """Settings that point the connect page's providers at emulators at these URLs
    (provider name -> emulator base URL)."""
    out: dict[str, Any] = {}
    for name, base in (base_urls or {}).items():
        declared = oauth_provider(name)
        if base and declared is not None:
            out.update(provider_overrides(declared, base))
    return out
