"""An async client of the Data API v1beta runReport, with paging, retries and token refresh.

RESOURCE_EXHAUSTED (concurrent-request quota, bursts) and 5xx are retried with
exponential backoff and full jitter (tenacity) until `upstream_retry_budget_seconds`
runs out; an exhausted hourly or daily token bucket is raised at once with the time
until it renews. An UNAUTHENTICATED answer is retried once after refreshing the access
token with the stored refresh token (at `google_token_url`), else the integration is
expired. The token never reaches the logs.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from metrics_connect import clock
from metrics_connect.connectors.base import (
    ConnectorContext,
    IntegrationExpired,
    UpstreamTransient,
)
from metrics_connect.connectors.retry import retry_within_budget
from metrics_connect.networks.google_analytics_4.connector.errors import (
    classify,
    is_retryable,
    parse_failure,
)

log = logging.getLogger("metrics_connect.networks.google_analytics_4.connector")

# The Data API returns at most 250,000 rows per request; we page well below that.
PAGE_SIZE = 100_000


class DataApiClient:
    def __init__(self, ctx: ConnectorContext, *, page_size: int = PAGE_SIZE) -> None:
        self.ctx = ctx
        self.base = ctx.base_url.rstrip("/")
        self.budget = float(getattr(ctx.settings, "upstream_retry_budget_seconds", 20.0))
        self.page_size = page_size
        self.property = ctx.external_id
        if not self.property.startswith("properties/"):
            self.property = f"properties/{self.property}"
        # The last propertyQuota the API reported (returnPropertyQuota), for logs and ops.
        self.last_quota: dict[str, Any] | None = None
        self._refreshed = False

    @property
    def report_path(self) -> str:
        return f"/v1beta/{self.property}:runReport"

    async def run_report_pages(
        self, body: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Every row of a report (following limit/offset up to rowCount) and the first page."""
        rows: list[dict[str, Any]] = []
        offset = 0
        first: dict[str, Any] | None = None
        while True:
            page = await self.run_report({**body, "limit": self.page_size, "offset": offset})
            first = first or page
            batch = page.get("rows") or []
            rows.extend(batch)
            offset += len(batch)
            total = int(page.get("rowCount") or 0)
            if not batch or offset >= total:
                return rows, first

    async def run_report(self, body: dict[str, Any]) -> dict[str, Any]:
        return await retry_within_budget(
            lambda: self._with_refresh(body), self.budget, is_retryable
        )

    async def _with_refresh(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self._run_once(body)
        except IntegrationExpired:
            if self._refreshed or not await self._refresh_token():
                raise
            return await self._run_once(body)

    async def _run_once(self, body: dict[str, Any]) -> dict[str, Any]:
        token = self.ctx.credentials.get("access_token")
        if not token:
            raise IntegrationExpired("no access token stored for this integration")
        url = self.base + self.report_path
        try:
            response = await self.ctx.http.post(
                url,
                json={**body, "returnPropertyQuota": True},
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TimeoutException as exc:
            raise UpstreamTransient("timeout calling the Data API") from exc
        except httpx.TransportError as exc:
            raise UpstreamTransient("cannot reach the Data API") from exc
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if response.status_code == 200 and isinstance(payload, dict):
            self.last_quota = payload.get("propertyQuota")
            return payload
        failure = parse_failure(response.status_code, payload)
        log.warning(
            "google analytics upstream failure",
            extra={
                "integration_uuid": self.ctx.integration_uuid,
                "endpoint": "runReport",
                "http_status": failure.http_status,
                "google_status": failure.status,
                "upstream_message": failure.message,
            },
        )
        raise classify(failure, self.local_now())

    async def property_resource(self) -> dict[str, Any] | None:
        """Admin API properties.get for this property; None when it cannot be read."""
        base = getattr(self.ctx.settings, "google_admin_api_base_url", None)
        token = self.ctx.credentials.get("access_token")
        if not base or not token:
            return None
        try:
            response = await self.ctx.http.get(
                f"{str(base).rstrip('/')}/v1beta/{self.property}",
                headers={"Authorization": f"Bearer {token}"},
            )
            payload = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return payload if isinstance(payload, dict) else None

    def local_now(self) -> datetime:
        return clock.now().astimezone(ZoneInfo(self.ctx.timezone))

    async def _refresh_token(self) -> bool:
        """Swap the refresh token for a new access token; False if that is not possible."""
        self._refreshed = True
        refresh = self.ctx.credentials.get("refresh_token")
        url = getattr(self.ctx.settings, "google_token_url", None)
        if not refresh or not url:
            return False
        form = {"grant_type": "refresh_token", "refresh_token": str(refresh)}
        client_id = getattr(self.ctx.settings, "google_client_id", None)
        client_secret = getattr(self.ctx.settings, "google_client_secret", None)
        if client_id:
            form["client_id"] = str(client_id)
        if client_secret:
            form["client_secret"] = str(client_secret)
        try:
            response = await self.ctx.http.post(str(url), data=form)
            payload = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return False
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not token:
            return False
        # The engine persists changed credentials; the new token is used from now on.
        self.ctx.credentials["access_token"] = str(token)
        return True
