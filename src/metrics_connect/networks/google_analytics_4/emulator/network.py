"""The GA4 emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.google_analytics_4.emulator.app import Ga4Emulator, create_app
from metrics_connect.sandbox.accounts import (
    DEMO_ACCESS_TOKEN,
    DEMO_REFRESH_TOKEN,
    GA4_PROPERTY_ID,
    GA4_PROPERTY_NAME,
    GA4_TIMEZONE,
)
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "google_analytics_4"


def build_emulator(controls: SandboxControls | None = None) -> Ga4Emulator:
    return Ga4Emulator(controls=controls or SandboxControls())


def build_sandbox() -> SandboxNetwork:
    emulator = build_emulator()
    network = SandboxNetwork(
        slug=SLUG,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="google_analytics_4_api_base_url",
        demo_account=DemoAccount(
            source_name=GA4_PROPERTY_NAME,
            external_id=GA4_PROPERTY_ID,
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone=GA4_TIMEZONE,
        ),
    )
    # Tests reach the raw data and the quotas through the network object.
    network.emulator = emulator
    return network
