"""The Pinterest (organic) emulator as a sandbox network."""

from __future__ import annotations

from metrics_connect.networks.pinterest.emulator.app import PinterestEmulator, create_app
from metrics_connect.networks.pinterest.emulator.data import USER
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "pinterest"


def build_sandbox(controls: SandboxControls | None = None) -> SandboxNetwork:
    emulator = PinterestEmulator(controls=controls or SandboxControls())
    return SandboxNetwork(
        slug=SLUG,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="pinterest_api_base_url",
        demo_account=DemoAccount(
            source_name=USER.business_name,
            external_id=USER.id,
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone="UTC",
        ),
    )
