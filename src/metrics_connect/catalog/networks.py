"""The networks this deployment serves: slug and display name.

A network is served once it has a catalog (catalog/data/<slug>.yaml) and its connector
is present in this build; names of the others are kept for display of old integrations.
"""

from __future__ import annotations

from metrics_connect.catalog.loader import catalogs
from metrics_connect.connectors.registry import connector_class

NETWORK_NAMES: dict[str, str] = {
    "instagram_business": "Instagram Business",
    "facebook_ads": "Meta Ads",
    "google_analytics_4": "Google Analytics 4",
}


def _connector_present(slug: str) -> bool:
    try:
        connector_class(slug)
    except (ImportError, KeyError, AttributeError):
        return False
    return True


def available_integrations() -> list[dict[str, str]]:
    return [
        {"name": catalog.name, "slug": slug}
        for slug, catalog in catalogs().items()
        if _connector_present(slug)
    ]


def network_name(slug: str) -> str:
    catalog = catalogs().get(slug)
    if catalog is not None:
        return catalog.name
    return NETWORK_NAMES.get(slug, slug)
