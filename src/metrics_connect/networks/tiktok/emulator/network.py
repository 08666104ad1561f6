"""The TikTok emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.tiktok.emulator.app import TikTokEmulator, create_app
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork


def build_emulator(controls: SandboxControls | None = None) -> TikTokEmulator:
    return TikTokEmulator(controls=controls or SandboxControls())


def build_sandbox() -> SandboxNetwork:
    emulator = build_emulator()
    account = emulator.data.account
    return SandboxNetwork(
        slug="tiktok",
        emulator=emulator,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="tiktok_api_base_url",
        demo_account=DemoAccount(
            source_name=f"@{account['username']}",
            external_id=emulator.data.open_id,
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone=str(account["timezone"]),
        ),
    )
