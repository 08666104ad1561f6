"""The registry's entry point (connectors/registry.py); the connector is hooks.py's."""

from metrics_connect.connectors.instagram_business.hooks import InstagramConnector

__all__ = ["InstagramConnector"]
