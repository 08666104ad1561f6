"""The Business Profile emulator as a sandbox network (demo, tests, benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.google_my_business.emulator.app import create_app
from metrics_connect.networks.google_my_business.emulator.data import ProfileData
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "google_my_business"


def build_sandbox() -> SandboxNetwork:
    data = ProfileData()
    controls = SandboxControls()
    return SandboxNetwork(
        slug=SLUG,
        data=data,
        controls=controls,
        app=create_app(data, controls),
        settings_field="google_my_business_api_base_url",
        demo_account=DemoAccount(
            source_name=data.location.title,
            external_id=data.account_location,
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone=data.location.timezone,
        ),
    )
    # Tests reach the raw data through the network object.
