"""The registry's entry point (connectors/registry.py); the connector is hooks.py's."""

from metrics_connect.connectors.google_analytics_4.hooks import GoogleAnalytics4Connector

__all__ = ["GoogleAnalytics4Connector"]
