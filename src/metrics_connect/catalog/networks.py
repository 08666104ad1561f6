"""The networks this deployment serves: slug and display name.

A network is listed here once it has a connector, a sandbox emulator and a catalog.
"""

from __future__ import annotations

NETWORK_NAMES: dict[str, str] = {
    "instagram_business": "Instagram Business",
    "facebook_ads": "Meta Ads",
    "google_analytics_4": "Google Analytics 4",
}


def available_integrations() -> list[dict[str, str]]:
    return [{"name": name, "slug": slug} for slug, name in NETWORK_NAMES.items()]


def network_name(slug: str) -> str:
    return NETWORK_NAMES.get(slug, slug)
