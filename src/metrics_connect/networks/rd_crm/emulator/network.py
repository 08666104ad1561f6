"""The RD Station CRM emulator as a sandbox network (demo, tests): the account served at
the network's base URL setting, a sandbox API token as the demo's credentials."""

from __future__ import annotations

from metrics_connect.networks.rd_crm.emulator.app import create_app
from metrics_connect.networks.rd_crm.emulator.data import RdCrmData
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "rd_crm"


def build_sandbox() -> SandboxNetwork:
    data = RdCrmData()
    controls = SandboxControls()
    return SandboxNetwork(
        slug=SLUG,
        data=data,
        controls=controls,
        app=create_app(data, controls),
        settings_field="rd_crm_api_base_url",
        demo_account=DemoAccount(
            source_name=str(data.account["name"]),
            external_id=str(data.users[0]["id"]),
            credentials={"access_token": DEMO_ACCESS_TOKEN},
            timezone=str(data.account["timezone"]),
        ),
    )
