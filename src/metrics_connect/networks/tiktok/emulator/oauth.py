"""TikTok account-holder login in the sandbox: the kit's generic server with TikTok's
token endpoints. POST .../tt_user/oauth2/token/ and .../tt_user/oauth2/refresh_token/
take JSON {client_id, client_secret, grant_type, auth_code | refresh_token} and answer
{code, message, request_id, data: {access_token, expires_in, open_id, refresh_token,
refresh_token_expires_in, scope, token_type}} with HTTP 200; refusals are codes in the
body (40101 wrong app, 40110 invalid code or refresh token)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.networks.tiktok.emulator.data import load_data
from metrics_connect.sandbox.kit.code_envelope import envelope, oauth_error
from metrics_connect.sandbox.kit.oauth_server import (
    GenericOAuthServer,
    build_generic_oauth,
    path_of,
)


def build_provider_emulator(
    spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()
) -> GenericOAuthServer:
    open_id = load_data().open_id

    async def read(request: Request) -> dict[str, str]:
        try:
            body: Any = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        fields = {k: str(v) for k, v in body.items() if v is not None}
        if "auth_code" in fields:
            fields["code"] = fields.pop("auth_code")
        return fields

    def answer(fields: dict[str, Any]) -> Response:
        data = {
            **fields,
            "open_id": open_id,
            "refresh_token_expires_in": 31536000,
            "token_type": "Bearer",
        }
        return envelope(0, "OK", data)

    server = build_generic_oauth(
        spec, redirect_uris, read_token_request=read, token_answer=answer, error_answer=oauth_error
    )
    # The refresh has a path of its own at TikTok; the generic server answers both.
    refresh_path = path_of(spec.token_url).replace("/token/", "/refresh_token/")
    server.app.router.routes.insert(0, Route(refresh_path, server.token, methods=["POST"]))
    return server
