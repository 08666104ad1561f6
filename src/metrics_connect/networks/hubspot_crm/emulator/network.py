"""The HubSpot CRM emulator as a sandbox network (demo, tests), and its OAuth provider's
emulator: the sandbox kit's authorization server with HubSpot's lifetimes (access tokens
of 30 minutes, refresh tokens rotated on every use)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from metrics_connect.networks.hubspot_crm.emulator.app import create_app
from metrics_connect.networks.hubspot_crm.emulator.data import CrmData
from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, DEMO_REFRESH_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.oauth_server import build_generic_oauth
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "hubspot_crm"
ACCESS_TOKEN_LIFETIME = timedelta(minutes=30)


def build_sandbox() -> SandboxNetwork:
    data = CrmData()
    controls = SandboxControls()
    network = SandboxNetwork(
        slug=SLUG,
        data=data,
        controls=controls,
        app=create_app(data, controls),
        settings_field="hubspot_crm_api_base_url",
        demo_account=DemoAccount(
            source_name=f"Acme Coffee ({data.account['portalId']})",
            external_id=str(data.account["portalId"]),
            credentials={"access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN},
            timezone=str(data.account["timeZone"]),
        ),
    )
    return network


def build_oauth(spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()) -> Any:
    return build_generic_oauth(
        spec, redirect_uris, access_lifetime=ACCESS_TOKEN_LIFETIME, rotate_refresh=True
    )
