"""OAuth 1.0a user context on the emulated X Ads API, as X checks it.

Every call carries `Authorization: OAuth ...` signed with HMAC-SHA1 by the app's
consumer key and the user's access token. The token follows the sandbox rule (expired
and revoked switches); the signature is verified where the emulator knows both secrets
(the sandbox consumer registered for `x_login` and the demo user's token), since tokens
issued by the OAuth emulator keep their secret there. A bad signature, like a missing or
unknown token, is 401 UNAUTHORIZED_ACCESS; a token that lost the account is 403.
"""

from __future__ import annotations

from starlette.requests import Request

from metrics_connect.networks.twitter_ads.emulator.stats import XError
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.oauth1 import oauth1_params, signature_holds
from metrics_connect.sandbox.kit.oauth_server import sandbox_client

DEMO_TOKEN_SECRET = "sandbox-demo-token-secret"
UNAUTHENTICATED = XError(401, "UNAUTHORIZED_ACCESS", "This request is not properly authenticated")


def check(request: Request, body: bytes, controls: SandboxControls) -> None:
    """Nothing when the request's OAuth 1.0a header holds; else the XError."""
    auth = oauth1_params(request)
    if not auth or auth.get("oauth_signature_method") != "HMAC-SHA1":
        raise UNAUTHENTICATED
    token = auth.get("oauth_token", "")
    fault = controls.token_fault(token)
    if fault is TokenFault.REVOKED:
        message = "The user no longer has access to this ads account"
        raise XError(403, "UNAUTHORIZED_ACCOUNT_ACCESS", message)
    if fault is not None:
        raise UNAUTHENTICATED
    consumer_key, consumer_secret = sandbox_client("x_login")
    signed_by_demo = auth.get("oauth_consumer_key") == consumer_key and token == DEMO_ACCESS_TOKEN
    if signed_by_demo and not signature_holds(
        request, body, auth, consumer_secret, DEMO_TOKEN_SECRET
    ):
        raise UNAUTHENTICATED
