"""An async client of the Marketing API: reads, cursor paging, async report runs, retries.

Rate limits and transient failures are retried with exponential backoff and full jitter
(tenacity) until `upstream_retry_budget_seconds` runs out, never sooner than Meta's own
`estimated_time_to_regain_access`. The token travels as the `access_token` parameter
and is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import httpx

from metrics_connect.connectors.base import (
    ConnectorContext,
    IntegrationExpired,
    UpstreamTransient,
)
from metrics_connect.connectors.retry import retry_within_budget
from metrics_connect.networks.facebook_ads.connector.errors import (
    classify,
    is_retryable,
    parse_failure,
)

log = logging.getLogger("metrics_connect.networks.facebook_ads.connector")

T = TypeVar("T")
PAGE_LIMIT = 500
# Polls of an async report run: quick at first, then every few seconds.
POLL_DELAYS = (0.0, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0)


class MarketingClient:
    def __init__(self, ctx: ConnectorContext) -> None:
        self.ctx = ctx
        self.version = str(getattr(ctx.settings, "graph_api_version", "v21.0"))
        self.budget = float(getattr(ctx.settings, "upstream_retry_budget_seconds", 20.0))
        self.base = ctx.base_url.rstrip("/")

    @property
    def _token(self) -> str:
        token = self.ctx.credentials.get("access_token")
        if not token:
            raise IntegrationExpired("no access token stored for this integration")
        return str(token)

    def url(self, path: str) -> str:
        return f"{self.base}/{self.version}/{path.lstrip('/')}"

    async def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        return await self._retrying(lambda: self._call("GET", path, params))

    async def post(self, path: str, data: dict[str, str]) -> dict[str, Any]:
        return await self._retrying(lambda: self._call("POST", path, data))

    async def paged(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every item of a cursor-paged edge (follows `paging.next` / `cursors.after`)."""
        query = {"limit": str(PAGE_LIMIT), **params}
        items: list[dict[str, Any]] = []
        while True:
            page = await self.get(path, query)
            items.extend(i for i in page.get("data") or [] if isinstance(i, dict))
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return items
            next_query = dict(parse_qsl(urlsplit(str(paging["next"])).query))
            next_query.pop("access_token", None)
            query = {**query, **next_query, "after": str(after)}

    async def report_run(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """POST the insights query as an async job, poll it, then page its rows."""
        deadline = time.monotonic() + max(self.budget, 5.0) * 3
        started = await self.post(path, params)
        run_id = str(started.get("report_run_id") or "")
        if not run_id:
            raise UpstreamTransient("the Marketing API did not start the report run")
        for attempt in range(1000):
            await asyncio.sleep(POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)])
            status = await self.get(run_id, {})
            state = str(status.get("async_status") or "")
            if state == "Job Completed":
                return await self.paged(f"{run_id}/insights", {})
            if state in ("Job Failed", "Job Skipped"):
                raise UpstreamTransient(f"Meta report run {run_id} ended with {state!r}")
            if time.monotonic() > deadline:
                break
        raise UpstreamTransient(f"Meta report run {run_id} did not complete in time")

    async def _call(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        query = {**params, "access_token": self._token}
        try:
            if method == "GET":
                response = await self.ctx.http.get(self.url(path), params=query)
            else:
                response = await self.ctx.http.post(self.url(path), data=query)
        except httpx.TimeoutException as exc:
            raise UpstreamTransient(f"timeout calling the Marketing API ({path})") from exc
        except httpx.TransportError as exc:
            raise UpstreamTransient(f"cannot reach the Marketing API ({path})") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 400 and isinstance(body, dict) and "error" not in body:
            return body
        failure = parse_failure(response.status_code, body)
        log.warning(
            "facebook_ads upstream failure",
            extra={
                "integration_uuid": self.ctx.integration_uuid,
                "endpoint": path.split("?")[0],
                "http_status": failure.status,
                "graph_code": failure.code,
                "graph_subcode": failure.subcode,
                "upstream_message": failure.message,
            },
        )
        raise classify(failure, response.headers)

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        return await retry_within_budget(call, self.budget, is_retryable)
