"""The Mailchimp emulator as a sandbox network (demo, tests), and its OAuth provider's
emulator: the sandbox kit's authorization server with Mailchimp's tokens, which never
expire (no refresh token)."""

from __future__ import annotations

from typing import Any

from metrics_connect.networks.mailchimp.emulator.app import create_app
from metrics_connect.networks.mailchimp.emulator.data import MailchimpData
from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.oauth_server import build_generic_oauth
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "mailchimp"


def build_sandbox() -> SandboxNetwork:
    data = MailchimpData()
    controls = SandboxControls()
    network = SandboxNetwork(
        slug=SLUG,
        controls=controls,
        app=create_app(data, controls),
        settings_field="mailchimp_api_base_url",
        demo_account=DemoAccount(
            source_name=str(data.account["account_name"]),
            external_id=str(data.account["account_id"]),
            credentials={"access_token": DEMO_ACCESS_TOKEN},
            timezone=str(data.account["account_timezone"]),
        ),
    )
    network.data = data  # type: ignore[attr-defined]
    return network


def build_oauth(spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()) -> Any:
    return build_generic_oauth(spec, redirect_uris)
