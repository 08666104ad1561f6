"""OAuth 1.0a user context on the emulated X Ads API, as X checks it.

Every call carries `Authorization: OAuth ...` signed with HMAC-SHA1 by the app's
consumer key and the user's access token. The token follows the sandbox rule (expired
and revoked switches); the signature is verified where the emulator knows both secrets
(the sandbox consumer registered for `x_login` and the demo user's token), since tokens
issued by the OAuth emulator keep their secret there. A bad signature, like a missing or
unknown token, is 401 UNAUTHORIZED_ACCESS; a token that lost the account is 403.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, unquote
from urllib.request import parse_http_list, parse_keqv_list

from authlib.oauth1.rfc5849.signature import construct_base_string, hmac_sha1_signature
from starlette.requests import Request

from metrics_connect.networks.twitter_ads.emulator.stats import XError
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.oauth_server import sandbox_client

PROVIDER = "x_login"
DEMO_TOKEN_SECRET = "sandbox-demo-token-secret"
UNAUTHENTICATED = "This request is not properly authenticated"


def _header(request: Request) -> dict[str, str]:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("oauth "):
        raise XError(401, "UNAUTHORIZED_ACCESS", UNAUTHENTICATED)
    try:
        items = parse_keqv_list(parse_http_list(header[6:]))
    except (IndexError, ValueError):
        raise XError(401, "UNAUTHORIZED_ACCESS", UNAUTHENTICATED) from None
    return {unquote(k): unquote(v).strip('"') for k, v in items.items()}


def check(request: Request, body: bytes, controls: SandboxControls) -> str:
    """The request's access token, once its OAuth 1.0a header holds; else the XError."""
    auth = _header(request)
    if auth.get("oauth_signature_method") != "HMAC-SHA1" or not auth.get("oauth_signature"):
        raise XError(401, "UNAUTHORIZED_ACCESS", UNAUTHENTICATED)
    token = auth.get("oauth_token", "")
    fault = controls.token_fault(token)
    if fault is TokenFault.REVOKED:
        raise XError(
            403,
            "UNAUTHORIZED_ACCOUNT_ACCESS",
            "The user no longer has access to this ads account",
        )
    if fault is not None:
        raise XError(401, "UNAUTHORIZED_ACCESS", UNAUTHENTICATED)
    consumer_key, consumer_secret = sandbox_client(PROVIDER)
    if auth.get("oauth_consumer_key") == consumer_key and token == DEMO_ACCESS_TOKEN:
        params = [(k, v) for k, v in auth.items() if k not in ("oauth_signature", "realm")]
        params += parse_qsl(request.url.query, keep_blank_values=True)
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        base = construct_base_string(request.method, str(request.url), params)
        expected = hmac_sha1_signature(base, consumer_secret, DEMO_TOKEN_SECRET)
        if not hmac.compare_digest(expected, auth["oauth_signature"]):
            raise XError(401, "UNAUTHORIZED_ACCESS", UNAUTHENTICATED)
    return token
