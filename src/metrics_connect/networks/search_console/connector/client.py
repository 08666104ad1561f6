"""An async client of the Search Console API: searchAnalytics.query with rowLimit/startRow
paging, sites.get, retries within the budget, one token refresh, Google's errors mapped.

429 (RESOURCE_EXHAUSTED) and 5xx are retried with backoff (connectors/retry.py), never
sooner than a Retry-After; 401 is retried once after refreshing the access token with
the stored refresh token, else the integration is expired; 403 (a property the login
cannot read, or a grant without the scope) revokes it; other 4xx fail the widget with
the API's message. The token never reaches the logs.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from metrics_connect.connectors.base import (
    ConnectorContext,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransient,
)
from metrics_connect.connectors.retry import retry_within_budget

log = logging.getLogger("metrics_connect.networks.search_console.connector")

# The API's largest page; the last page is the first one shorter than this.
ROW_LIMIT = 25_000
MAX_PAGES = 400


def classify(status: int, body: Any, retry_after: str | None) -> UpstreamError:
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    google_status = str(error.get("status") or "") or None
    message = str(error.get("message") or f"HTTP {status} from the Search Console API")
    code = google_status or status
    if status == 401 or google_status == "UNAUTHENTICATED":
        return IntegrationExpired(message, upstream_code=code)
    if status == 403 or google_status == "PERMISSION_DENIED":
        return IntegrationRevoked(message, upstream_code=code)
    if status == 429 or google_status == "RESOURCE_EXHAUSTED":
        wait = float(retry_after) if retry_after and retry_after.isdigit() else None
        return UpstreamRateLimited(message, upstream_code=code, retry_after=wait)
    if status >= 500:
        return UpstreamTransient(message, upstream_code=code)
    return UpstreamError(f"Search Console API: {message}", upstream_code=code)


class SearchConsoleClient:
    def __init__(self, ctx: ConnectorContext, *, row_limit: int = ROW_LIMIT) -> None:
        self.ctx = ctx
        self.base = ctx.base_url.rstrip("/")
        self.budget = float(getattr(ctx.settings, "upstream_retry_budget_seconds", 20.0))
        self.row_limit = row_limit
        self._refreshed = False

    @property
    def site_path(self) -> str:
        return f"/webmasters/v3/sites/{quote(self.ctx.external_id, safe='')}"

    @property
    def query_path(self) -> str:
        return f"{self.site_path}/searchAnalytics/query"

    async def query_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row of a query: pages of `row_limit` from startRow 0 until a short one."""
        rows: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            page = await self.call(
                "POST", self.query_path, {**body, "rowLimit": self.row_limit, "startRow": len(rows)}
            )
            batch = page.get("rows") or []
            rows.extend(batch)
            if len(batch) < self.row_limit:
                return rows
        raise UpstreamError(f"Search Console API: more than {MAX_PAGES} pages of rows")

    async def call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        return await retry_within_budget(
            lambda: self._with_refresh(method, path, body), self.budget
        )

    async def _with_refresh(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        try:
            return await self._once(method, path, body)
        except IntegrationExpired:
            if self._refreshed or not await self._refresh_token():
                raise
            return await self._once(method, path, body)

    async def _once(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        token = self.ctx.credentials.get("access_token")
        if not token:
            raise IntegrationExpired("no access token stored for this integration")
        try:
            response = await self.ctx.http.request(
                method, self.base + path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TimeoutException as exc:
            raise UpstreamTransient("timeout calling the Search Console API") from exc
        except httpx.TransportError as exc:
            raise UpstreamTransient("cannot reach the Search Console API") from exc
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if response.status_code == 200 and isinstance(payload, dict):
            return payload
        failure = classify(response.status_code, payload, response.headers.get("retry-after"))
        log.warning(
            "search console upstream failure",
            extra={
                "integration_uuid": self.ctx.integration_uuid,
                "http_status": response.status_code,
                "upstream_code": failure.upstream_code,
                "upstream_message": failure.message,
            },
        )
        raise failure

    async def _refresh_token(self) -> bool:
        """Swap the refresh token for a new access token; False if that is not possible."""
        self._refreshed = True
        refresh = self.ctx.credentials.get("refresh_token")
        url = getattr(self.ctx.settings, "google_token_url", None)
        if not refresh or not url:
            return False
        form = {"grant_type": "refresh_token", "refresh_token": str(refresh)}
        for field, setting in (
            ("client_id", "google_client_id"),
            ("client_secret", "google_client_secret"),
        ):
            value = getattr(self.ctx.settings, setting, None)
            if value:
                form[field] = str(value)
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
