"""OAuth emulators of the declared providers, for the connect page's tests and demo.

emulator = build_provider_emulator("facebook_login")  # in-process: ASGITransport(emulator.app)
running = serve_in_background(emulator.app)            # or on 127.0.0.1 for a browser
settings = Settings(**oauth_settings_overrides({"facebook_login": running.base_url}))
"""

from __future__ import annotations

from metrics_connect.sandbox.oauth.facebook_login import FacebookOAuthApp, build_facebook_oauth
from metrics_connect.sandbox.oauth.google import GoogleOAuthApp, build_google_oauth
from metrics_connect.sandbox.oauth.providers import (
    ProviderEmulator,
    build_provider_emulator,
    oauth_provider_names,
    oauth_settings_overrides,
)
from metrics_connect.sandbox.oauth.serve import RunningServer, serve_in_background

__all__ = [
    "FacebookOAuthApp",
    "GoogleOAuthApp",
    "ProviderEmulator",
    "RunningServer",
    "build_facebook_oauth",
    "build_google_oauth",
    "build_provider_emulator",
    "oauth_provider_names",
    "oauth_settings_overrides",
    "serve_in_background",
]
