"""The network emulators the demo and the tests can start, by integration slug."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp

from metrics_connect.networks.registry import network, networks
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
    # The emulator's seeded truth, for the tests that check our numbers against it.
    data: Any = None
    # The emulator object behind `app`, for the tests that reach its state or switches.
    emulator: Any = None


def available_sandboxes() -> list[str]:
    """Slugs of the networks whose emulator is present in this build."""
    out = []
    for slug, net in networks().items():
        if net.spec.emulator is None:
            continue
        try:
            net.load(net.spec.emulator)
        except (ImportError, AttributeError):
            continue
        out.append(slug)
    return out


def build_sandbox(slug: str) -> SandboxNetwork:
    net = network(slug)
    if net is None or net.spec.emulator is None:
        raise KeyError(slug)
    sandbox = net.load(net.spec.emulator)()
    assert isinstance(sandbox, SandboxNetwork)
    return sandbox
