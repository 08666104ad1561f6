"""The HubSpot marketing emulator as a sandbox network (demo, tests). Its OAuth provider
is `hubspot_login`, declared (with its emulator) by the HubSpot CRM network's network.yaml."""

from __future__ import annotations

from metrics_connect.networks.hubspot_marketing.emulator.app import create_app
from metrics_connect.networks.hubspot_marketing.emulator.data import PORTAL
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "hubspot_marketing"


def build_sandbox() -> SandboxNetwork:
    controls = SandboxControls()
    return SandboxNetwork(
        slug=SLUG,
        controls=controls,
        app=create_app(controls),
        settings_field="hubspot_marketing_api_base_url",
        demo_account=DemoAccount(
            source_name=f"Acme Coffee marketing ({PORTAL['portalId']})",
            external_id=str(PORTAL["portalId"]),
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone=str(PORTAL["timeZone"]),
        ),
    )
