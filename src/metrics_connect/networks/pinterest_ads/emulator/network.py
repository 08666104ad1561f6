"""The Pinterest Ads emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.pinterest_ads.emulator.app import PinterestAdsEmulator, create_app
from metrics_connect.networks.pinterest_ads.emulator.data import ACCOUNTS
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "pinterest_ads"
DEMO_ACCOUNT = ACCOUNTS[0]


def build_sandbox(controls: SandboxControls | None = None) -> SandboxNetwork:
    emulator = PinterestAdsEmulator(controls=controls or SandboxControls())
    return SandboxNetwork(
        slug=SLUG,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="pinterest_ads_api_base_url",
        demo_account=DemoAccount(
            source_name=DEMO_ACCOUNT.name,
            external_id=DEMO_ACCOUNT.id,
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone="UTC",
        ),
    )
