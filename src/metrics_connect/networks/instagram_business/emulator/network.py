"""The Instagram emulator as a sandbox network (see metrics_connect.sandbox.registry)."""

from __future__ import annotations

from metrics_connect.networks.instagram_business.emulator.app import InstagramGraphApp
from metrics_connect.networks.instagram_business.emulator.fleet import InstagramFleetApp
from metrics_connect.networks.instagram_business.emulator.model import (
    DEFAULT_SEED,
    InstagramSandbox,
)
from metrics_connect.sandbox.accounts import (
    DEMO_ACCESS_TOKEN,
    INSTAGRAM_TIMEZONE,
    INSTAGRAM_USER_ID,
    INSTAGRAM_USERNAME,
)
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork


class InstagramSandboxNetwork(SandboxNetwork):
    """A SandboxNetwork that also exposes the raw truth (`.sandbox`) for reference tests,
    the demo account's app with its Instagram-specific knobs (`.graph_app`) and the
    generated accounts behind the same app (`.fleet`, fleet.py)."""

    sandbox: InstagramSandbox
    graph_app: InstagramGraphApp
    fleet: InstagramFleetApp


def build_sandbox(seed: int = DEFAULT_SEED) -> InstagramSandboxNetwork:
    """A fresh, independent emulator (own clock, switches and call counter)."""
    controls = SandboxControls()
    sandbox = InstagramSandbox(controls, seed=seed)
    app = InstagramGraphApp(sandbox)
    fleet = InstagramFleetApp(app)
    network = InstagramSandboxNetwork(
        slug="instagram_business",
        controls=controls,
        app=fleet,
        settings_field="instagram_api_base_url",
        demo_account=DemoAccount(
            source_name=INSTAGRAM_USERNAME,
            external_id=INSTAGRAM_USER_ID,
            credentials={"access_token": DEMO_ACCESS_TOKEN},
            timezone=INSTAGRAM_TIMEZONE,
        ),
    )
    network.sandbox = sandbox
    network.graph_app = app
    network.fleet = fleet
    return network
