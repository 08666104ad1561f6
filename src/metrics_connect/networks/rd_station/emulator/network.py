"""The RD Station Marketing emulator as a sandbox network (demo, tests); its OAuth
provider is the sandbox kit's generic authorization server on the declared URLs."""

from __future__ import annotations

from metrics_connect.networks.rd_station.emulator.app import create_app
from metrics_connect.networks.rd_station.emulator.data import MarketingData
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "rd_station"


def build_sandbox() -> SandboxNetwork:
    data = MarketingData()
    controls = SandboxControls()
    network = SandboxNetwork(
        slug=SLUG,
        controls=controls,
        app=create_app(data, controls),
        settings_field="rd_station_api_base_url",
        demo_account=DemoAccount(
            source_name=str(data.account["name"]),
            external_id=str(data.account["account_id"]),
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone="America/Sao_Paulo",
        ),
    )
    network.data = data  # type: ignore[attr-defined]
    return network
