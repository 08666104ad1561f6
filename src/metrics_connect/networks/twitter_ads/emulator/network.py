"""The X Ads emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.twitter_ads.emulator.app import XAdsEmulator, create_app
from metrics_connect.networks.twitter_ads.emulator.auth import DEMO_TOKEN_SECRET
from metrics_connect.networks.twitter_ads.emulator.data import ACCOUNTS
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "twitter_ads"
DEMO = ACCOUNTS[0]


def build_sandbox(
    controls: SandboxControls | None = None, emulator: XAdsEmulator | None = None
) -> SandboxNetwork:
    """The sandbox network; tests pass their own emulator to reach its jobs and switches."""
    emulator = emulator or XAdsEmulator(controls=controls or SandboxControls())
    return SandboxNetwork(
        slug=SLUG,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="twitter_ads_api_base_url",
        demo_account=DemoAccount(
            source_name=DEMO.name,
            external_id=DEMO.id,
            credentials={
                "access_token": DEMO_ACCESS_TOKEN,
                "oauth_token": DEMO_ACCESS_TOKEN,
                "oauth_token_secret": DEMO_TOKEN_SECRET,
            },
            timezone=DEMO.timezone,
        ),
    )
