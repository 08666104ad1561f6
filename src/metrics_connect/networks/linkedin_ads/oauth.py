"""LinkedIn's authorization server in the sandbox: the generic one with LinkedIn's
lifetimes (access tokens 60 days, refresh tokens 365 days, not rotated on refresh)."""

from __future__ import annotations

from datetime import timedelta

from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer, build_generic_oauth


def build_emulator(spec: ProviderSpec, redirect_uris: tuple[str, ...]) -> GenericOAuthServer:
    return build_generic_oauth(
        spec,
        redirect_uris,
        access_lifetime=timedelta(days=60),
        refresh_lifetime=timedelta(days=365),
        rotate_refresh=False,
    )
