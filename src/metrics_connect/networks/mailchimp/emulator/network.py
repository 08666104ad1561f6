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
        data=data,
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
    return network


def build_oauth(spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()) -> Any:
    """The login host: authorize and token, and `/oauth2/metadata` naming the token's
    data center. Its `api_endpoint` is this emulator, which also answers the account root
    (`/3.0/`) for the connect page's picker; the connector's calls go to the API
    emulator (the `mailchimp_api_base_url` setting: a non-Mailchimp host wins)."""
    server = build_generic_oauth(spec, redirect_uris, access_lifetime=None)
    login = create_app(MailchimpData(), server.controls)
    wanted = {"/oauth2/metadata", "/3.0/", "/3.0"}
    server.app.router.routes.extend(r for r in login.routes if getattr(r, "path", "") in wanted)
    return server
