"""The WooCommerce emulator as a sandbox network (demo, tests): the sandbox store served
at the network's base URL setting, and a read key pair of that store as the demo's
credentials (no `store_url`: the operator's setting names the store)."""

from __future__ import annotations

from metrics_connect.networks.woo_commerce.emulator.app import create_app
from metrics_connect.networks.woo_commerce.emulator.data import StoreData
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "woo_commerce"


def build_sandbox() -> SandboxNetwork:
    data = StoreData()
    controls = SandboxControls()
    key = data.spec["keys"][0]
    return SandboxNetwork(
        slug=SLUG,
        data=data,
        controls=controls,
        app=create_app(data, controls),
        settings_field="woo_commerce_api_base_url",
        demo_account=DemoAccount(
            source_name=data.site["name"],
            external_id=data.site["url"],
            credentials={
                "consumer_key": key["consumer_key"],
                "consumer_secret": key["consumer_secret"],
            },
            timezone=str(data.site["timezone_string"]),
        ),
    )
