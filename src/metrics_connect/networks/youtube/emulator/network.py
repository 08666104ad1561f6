"""The YouTube emulator as a sandbox network (for the demo, tests and benchmarks)."""

from __future__ import annotations

from metrics_connect.networks.youtube.emulator.app import YoutubeEmulator, create_app
from metrics_connect.networks.youtube.emulator.data import TIMEZONE
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "youtube"


def build_sandbox() -> SandboxNetwork:
    emulator = YoutubeEmulator()
    return SandboxNetwork(
        slug=SLUG,
        emulator=emulator,
        controls=emulator.controls,
        app=create_app(emulator),
        settings_field="youtube_api_base_url",
        demo_account=DemoAccount(
            source_name=emulator.data.title,
            external_id=emulator.data.channel_id,
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone=TIMEZONE,
        ),
    )
