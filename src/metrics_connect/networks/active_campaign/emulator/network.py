"""The ActiveCampaign emulator as a sandbox network (demo, tests): the account served at
the network's base URL setting, a sandbox API key as the demo's credentials."""

from __future__ import annotations

from metrics_connect.networks.active_campaign.emulator.app import create_app
from metrics_connect.networks.active_campaign.emulator.data import ActiveCampaignData
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "active_campaign"


def build_sandbox() -> SandboxNetwork:
    data = ActiveCampaignData()
    controls = SandboxControls()
    return SandboxNetwork(
        slug=SLUG,
        data=data,
        controls=controls,
        app=create_app(data, controls),
        settings_field="active_campaign_api_base_url",
        demo_account=DemoAccount(
            source_name=str(data.account["name"]),
            external_id=str(data.account["subdomain"]),
            credentials={"access_token": DEMO_ACCESS_TOKEN},
            timezone=str(data.account["timezone"]),
        ),
    )
