"""OAuth emulators of Facebook Login and Google, for the connect page's tests and demo.

fb = build_facebook_oauth()              # in-process: httpx.ASGITransport(fb.app)
running = serve_in_background(fb.app)    # or on 127.0.0.1 for a browser
settings = Settings(**oauth_settings_overrides(facebook_base_url=running.base_url))
"""

from __future__ import annotations

from typing import Any

from metrics_connect.sandbox.oauth import facebook, google
from metrics_connect.sandbox.oauth.facebook import FacebookOAuthApp, build_facebook_oauth
from metrics_connect.sandbox.oauth.google import GoogleOAuthApp, build_google_oauth
from metrics_connect.sandbox.oauth.serve import RunningServer, serve_in_background

GRAPH_API_VERSION = "v27.0"


def oauth_settings_overrides(
    *, facebook_base_url: str | None = None, google_base_url: str | None = None
) -> dict[str, Any]:
    """Settings that point the connect page's providers at emulators at these URLs."""
    out: dict[str, Any] = {}
    if facebook_base_url:
        base = facebook_base_url.rstrip("/")
        out.update(
            facebook_client_id=facebook.CLIENT_ID,
            facebook_client_secret=facebook.CLIENT_SECRET,
            facebook_authorize_url=f"{base}/{GRAPH_API_VERSION}/dialog/oauth",
            facebook_token_url=f"{base}/{GRAPH_API_VERSION}/oauth/access_token",
            facebook_graph_base_url=base,
        )
    if google_base_url:
        base = google_base_url.rstrip("/")
        out.update(
            google_client_id=google.CLIENT_ID,
            google_client_secret=google.CLIENT_SECRET,
            google_authorize_url=f"{base}/o/oauth2/v2/auth",
            google_token_url=f"{base}/token",
            google_admin_api_base_url=base,
        )
    return out


__all__ = [
    "FacebookOAuthApp",
    "GoogleOAuthApp",
    "RunningServer",
    "build_facebook_oauth",
    "build_google_oauth",
    "oauth_settings_overrides",
    "serve_in_background",
]
