"""The hosts of the four Business Profile APIs the network calls.

Each API has its own host. A host setting left empty means the official host, or, when
the Performance API's host is pointed elsewhere (the sandbox, a test), that same host:
the emulator serves all four APIs on one host.
"""

from __future__ import annotations

from typing import Literal

from metrics_connect.settings import Settings

Api = Literal["performance", "reviews", "accounts", "information"]
OFFICIAL: dict[Api, str] = {
    "performance": "https://businessprofileperformance.googleapis.com",
    "reviews": "https://mybusiness.googleapis.com",
    "accounts": "https://mybusinessaccountmanagement.googleapis.com",
    "information": "https://mybusinessbusinessinformation.googleapis.com",
}
SETTING: dict[Api, str] = {
    "performance": "google_my_business_api_base_url",
    "reviews": "google_my_business_reviews_api_base_url",
    "accounts": "google_my_business_accounts_api_base_url",
    "information": "google_my_business_information_api_base_url",
}


def api_host(settings: Settings, api: Api, performance: str | None = None) -> str:
    """The host of `api`; `performance` overrides the Performance API's setting (the
    base URL a connector was built with)."""
    base = (performance or str(getattr(settings, SETTING["performance"], "") or "")).rstrip("/")
    if api == "performance":
        return base or OFFICIAL["performance"]
    configured = str(getattr(settings, SETTING[api], "") or "").rstrip("/")
    if configured:
        return configured
    if base and base != OFFICIAL["performance"]:
        return base
    return OFFICIAL[api]
