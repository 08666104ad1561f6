"""The TikTok Ads emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.tiktok_ads.emulator.app import TikTokAdsEmulator, create_app
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork


def build_sandbox() -> SandboxNetwork:
    emulator = TikTokAdsEmulator()
    advertiser = emulator.data.advertiser
    return SandboxNetwork(
        slug="tiktok_ads",
        emulator=emulator,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="tiktok_ads_api_base_url",
        demo_account=DemoAccount(
            source_name=str(advertiser["name"]),
            external_id=emulator.data.advertiser_id,
            # TikTok's advertiser tokens do not expire (no refresh token).
            credentials={"access_token": DEMO_ACCESS_TOKEN},
            timezone=str(advertiser["timezone"]),
        ),
    )
