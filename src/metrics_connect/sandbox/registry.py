"""The network emulators the demo and the tests can start, by integration slug."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from starlette.types import ASGIApp

from metrics_connect.sandbox.kit.controls import SandboxControls


@dataclass(frozen=True)
class DemoAccount:
    """The sandbox account a demo integration connects to."""

    source_name: str
    external_id: str
    credentials: dict[str, Any]
    timezone: str


@dataclass
class SandboxNetwork:
    slug: str
    controls: SandboxControls
    app: ASGIApp
    # The Settings attribute that points the connector at this emulator.
    settings_field: str
    demo_account: DemoAccount


# slug -> "module:function"; the function takes no argument and returns a SandboxNetwork.
SANDBOXES: dict[str, str] = {
    "instagram_business": "metrics_connect.sandbox.instagram.network:build_sandbox",
    "facebook_ads": "metrics_connect.sandbox.facebook_ads.network:build_sandbox",
    "google_analytics_4": "metrics_connect.sandbox.google_analytics_4.network:build_sandbox",
}


def available_sandboxes() -> list[str]:
    """Slugs whose emulator package is present in this build."""
    out = []
    for slug, target in SANDBOXES.items():
        module_name = target.partition(":")[0]
        try:
            import_module(module_name)
        except ModuleNotFoundError:
            continue
        out.append(slug)
    return out


def build_sandbox(slug: str) -> SandboxNetwork:
    module_name, _, func_name = SANDBOXES[slug].partition(":")
    network = getattr(import_module(module_name), func_name)()
    assert isinstance(network, SandboxNetwork)
    return network
