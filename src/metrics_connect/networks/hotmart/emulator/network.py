"""The Hotmart emulator as a sandbox network (demo, tests), and its token endpoint: the
sandbox kit's authorization server answering `grant_type=client_credentials` with the
client in Basic auth and, as Hotmart's own examples send them, the fields in the query
string; tokens live 24 hours (Hotmart's `expires_in: 86400`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request

from metrics_connect.networks.hotmart.emulator.app import create_app
from metrics_connect.networks.hotmart.emulator.data import SalesData
from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.oauth_server import (
    build_generic_oauth,
    form_token_request,
    sandbox_client,
)
from metrics_connect.sandbox.registry import DemoAccount, SandboxNetwork

SLUG = "hotmart"
ACCESS_TOKEN_LIFETIME = timedelta(hours=24)


def build_sandbox() -> SandboxNetwork:
    data = SalesData()
    controls = SandboxControls()
    client_id, client_secret = sandbox_client("hotmart_login")
    network = SandboxNetwork(
        slug=SLUG,
        data=data,
        controls=controls,
        app=create_app(data, controls),
        settings_field="hotmart_api_base_url",
        demo_account=DemoAccount(
            source_name=data.producer["name"],
            external_id=data.producer["ucode"],
            credentials={
                "access_token": DEMO_ACCESS_TOKEN,
                "client_id": client_id,
                "client_secret": client_secret,
            },
            timezone=str(data.spec["timezone"]),
        ),
    )
    return network


async def query_or_form_token_request(request: Request) -> dict[str, str]:
    """Hotmart's token request: grant_type (and the client) in the query string or the
    form body, the client also in Basic auth."""
    fields = {k: str(v) for k, v in request.query_params.items()}
    fields.update(await form_token_request(request))
    return fields


def build_oauth(spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()) -> Any:
    return build_generic_oauth(
        spec,
        redirect_uris,
        access_lifetime=ACCESS_TOKEN_LIFETIME,
        read_token_request=query_or_form_token_request,
    )
