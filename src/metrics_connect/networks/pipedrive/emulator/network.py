"""The Pipedrive emulator as a sandbox network (demo, tests), and its OAuth provider's
emulator: the sandbox kit's authorization server with Pipedrive's lifetimes (access
tokens of an hour, refresh tokens kept)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from metrics_connect.networks.pipedrive.emulator.app import create_app
from metrics_connect.networks.pipedrive.emulator.data import PipedriveData
from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.oauth_server import build_generic_oauth
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "pipedrive"
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)


def build_sandbox() -> SandboxNetwork:
    data = PipedriveData()
    controls = SandboxControls()
    network = SandboxNetwork(
        slug=SLUG,
        data=data,
        controls=controls,
        app=create_app(data, controls),
        settings_field="pipedrive_api_base_url",
        demo_account=DemoAccount(
            source_name=str(data.company["name"]),
            external_id=str(data.company["id"]),
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone=str(data.company["timezone"]),
        ),
    )
    return network


def build_oauth(spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()) -> Any:
    return build_generic_oauth(spec, redirect_uris, access_lifetime=ACCESS_TOKEN_LIFETIME)
