"""The Meta Ads sandbox network: the Marketing API emulator and its demo ad account."""

from __future__ import annotations

from metrics_connect.networks.facebook_ads.emulator.app import FacebookAdsEmulator
from metrics_connect.sandbox.accounts import (
    AD_ACCOUNT_ID,
    AD_ACCOUNT_NAME,
    AD_ACCOUNT_TIMEZONE,
    DEMO_ACCESS_TOKEN,
)
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork


def build_sandbox() -> SandboxNetwork:
    emulator = FacebookAdsEmulator(SandboxControls())
    return SandboxNetwork(
        slug="facebook_ads",
        controls=emulator.controls,
        app=emulator.app,
        settings_field="facebook_ads_api_base_url",
        demo_account=DemoAccount(
            source_name=AD_ACCOUNT_NAME,
            external_id=AD_ACCOUNT_ID,
            credentials={"access_token": DEMO_ACCESS_TOKEN},
            timezone=AD_ACCOUNT_TIMEZONE,
        ),
    )


def emulator_of(network: SandboxNetwork) -> FacebookAdsEmulator:
    """The emulator behind a network built here (its raw data and switches)."""
    emulator = network.app
    assert isinstance(emulator, FacebookAdsEmulator)
    return emulator
