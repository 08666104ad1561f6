"""The one place a connector is built for an integration (engine, sync, jobs)."""

from __future__ import annotations

from typing import Any

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, ConnectorContext
from metrics_connect.connectors.registry import connector_class
from metrics_connect.networks.registry import days_timezone
from metrics_connect.runtime import Runtime


def connector_for(runtime: Runtime, integration: CustomerIntegration, **kwargs: Any) -> Connector:
    """The integration's connector, on the runtime's pooled HTTP client of its network."""
    ctx = ConnectorContext(
        integration_uuid=integration.uuid,
        external_id=integration.external_id,
        credentials=runtime.vault.decrypt_json(integration.credentials_encrypted),
        timezone=days_timezone(integration.slug, integration.timezone),
        http=runtime.http_client(integration.slug),
        base_url=runtime.upstream_base_url(integration.slug),
        settings=runtime.settings,
    )
    return connector_class(integration.slug)(ctx, **kwargs)
