"""Connector classes by integration slug (each connector package registers itself here)."""

from __future__ import annotations

from importlib import import_module

from metrics_connect.connectors.base import Connector

# slug -> "module:Class"; imported lazily so that one broken network cannot stop the rest.
CONNECTORS: dict[str, str] = {
    "instagram_business": (
        "metrics_connect.connectors.instagram_business.connector:InstagramConnector"
    ),
    "facebook_ads": "metrics_connect.connectors.facebook_ads.connector:FacebookAdsConnector",
    "google_analytics_4": (
        "metrics_connect.connectors.google_analytics_4.connector:GoogleAnalytics4Connector"
    ),
}


def connector_class(slug: str) -> type[Connector]:
    module_name, _, class_name = CONNECTORS[slug].partition(":")
    cls = getattr(import_module(module_name), class_name)
    assert issubclass(cls, Connector)
    return cls
