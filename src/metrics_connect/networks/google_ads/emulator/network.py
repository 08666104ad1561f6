"""The Google Ads emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.google_ads.emulator.app import GoogleAdsEmulator, create_app
from metrics_connect.networks.google_ads.emulator.data import CUSTOMERS
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "google_ads"
DEMO_CUSTOMER = "1234567890"
# The demo's developer token rides with its credentials (a deployment sets
# METRICS_CONNECT_GOOGLE_ADS_DEVELOPER_TOKEN instead).
DEMO_DEVELOPER_TOKEN = "sandbox-developer-token"


def build_sandbox(controls: SandboxControls | None = None) -> SandboxNetwork:
    emulator = GoogleAdsEmulator(controls=controls or SandboxControls())
    customer = CUSTOMERS[DEMO_CUSTOMER]
    return SandboxNetwork(
        slug=SLUG,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="google_ads_api_base_url",
        demo_account=DemoAccount(
            source_name=customer["name"],
            external_id=DEMO_CUSTOMER,
            credentials={
                "access_token": DEMO_ACCESS_TOKEN,
                "refresh_token": DEMO_REFRESH_TOKEN,
                "developer_token": DEMO_DEVELOPER_TOKEN,
            },
            timezone=customer["time_zone"],
        ),
    )
