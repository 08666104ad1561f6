"""The networks this deployment serves: slug and display name.

A network is served once its folder (networks/<slug>/) has a valid catalog and its
connector is present in this build.
"""

from __future__ import annotations

from metrics_connect.catalog.loader import catalogs
from metrics_connect.networks.registry import network


def available_integrations() -> list[dict[str, str]]:
    return [{"name": catalog.name, "slug": slug} for slug, catalog in catalogs().items()]


def network_name(slug: str) -> str:
    found = network(slug)
    return found.name if found is not None else slug
