"""TikTok for Business's advertiser authorization in the sandbox: the kit's generic
server with TikTok's token endpoint. POST /open_api/v1.3/oauth2/access_token/ takes a
JSON body {app_id, secret, auth_code} (the code is bound to the app, not to a redirect
URI) and answers {code, message, request_id, data: {access_token, advertiser_ids,
scope}} with HTTP 200; a refused code is code 40110, a wrong app 40101. Advertiser
tokens do not expire and come without a refresh token."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.networks.tiktok_ads.emulator.data import load_data
from metrics_connect.sandbox.kit.code_envelope import OK, envelope, oauth_error
from metrics_connect.sandbox.kit.code_params import json_fields
from metrics_connect.sandbox.kit.oauth_server import GenericOAuthServer, build_generic_oauth
from metrics_connect.sandbox.kit.templates import fill


def build_provider_emulator(
    spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()
) -> GenericOAuthServer:
    data = load_data()
    advertiser_ids = [data.advertiser_id]
    holder: dict[str, GenericOAuthServer] = {}

    async def read(request: Request) -> dict[str, str]:
        body = await json_fields(request)
        code = str(body.get("auth_code") or "")
        issued = holder["server"].server.codes.get(code)
        return {
            "grant_type": "authorization_code",
            "client_id": str(body.get("app_id") or ""),
            "client_secret": str(body.get("secret") or ""),
            "code": code,
            # TikTok binds the code to the app only: the redirect URI it was issued for.
            "redirect_uri": issued.request.redirect_uri if issued else "",
        }

    def answer(fields: dict[str, Any]) -> Response:
        values = {"access_token": fields["access_token"], "advertiser_ids": advertiser_ids}
        return envelope(OK, "OK", fill(data.spec.token_answer, values))

    server = build_generic_oauth(
        spec,
        redirect_uris,
        read_token_request=read,
        token_answer=answer,
        error_answer=oauth_error,
        access_lifetime=None,
    )
    holder["server"] = server
    return server
