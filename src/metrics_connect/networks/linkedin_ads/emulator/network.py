"""The LinkedIn Ads emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.linkedin_ads.emulator.app import AdsEmulator, create_app
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork


def build_sandbox() -> SandboxNetwork:
    emulator = AdsEmulator()
    network = SandboxNetwork(
        slug="linkedin_ads",
        emulator=emulator,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="linkedin_ads_api_base_url",
        demo_account=DemoAccount(
            source_name=str(emulator.data.account["name"]),
            external_id=str(emulator.data.account_id),
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone="UTC",  # LinkedIn's reporting days are UTC days
        ),
    )
    # Tests reach the raw data through the network object.
    return network
