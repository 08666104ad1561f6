"""The Search Console emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.search_console.emulator.app import (
    SearchConsoleEmulator,
    create_app,
)
from metrics_connect.networks.search_console.emulator.query import PACIFIC
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "search_console"
DEMO_SITE = "sc-domain:acmecoffee.example"


def build_sandbox(controls: SandboxControls | None = None) -> SandboxNetwork:
    emulator = SearchConsoleEmulator(controls=controls or SandboxControls())
    return SandboxNetwork(
        slug=SLUG,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="search_console_api_base_url",
        demo_account=DemoAccount(
            source_name=DEMO_SITE,
            external_id=DEMO_SITE,
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone=PACIFIC,
        ),
    )
