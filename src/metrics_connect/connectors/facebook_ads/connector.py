"""The registry's entry point (connectors/registry.py); the connector is hooks.py's."""

from metrics_connect.connectors.facebook_ads.hooks import FacebookAdsConnector

__all__ = ["FacebookAdsConnector"]
