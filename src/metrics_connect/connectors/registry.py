"""Connector classes by integration slug, from the network discovery (networks/)."""

from __future__ import annotations

from metrics_connect.connectors.base import Connector
from metrics_connect.networks.registry import network


def connector_class(slug: str) -> type[Connector]:
    found = network(slug)
    if found is None:
        raise KeyError(slug)
    cls = found.connector_class()
    assert isinstance(cls, type) and issubclass(cls, Connector)
    return cls
