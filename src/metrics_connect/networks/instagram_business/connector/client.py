"""An async client of the Graph API: GET, cursor paging and batch requests, with retries.

Rate limits and transient failures are retried with exponential backoff and full jitter
(tenacity) until `upstream_retry_budget_seconds` runs out, then raised. Every failure is
logged with the integration, the endpoint and the Graph code; the token never is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from metrics_connect.connectors.base import (
    ConnectorContext,
    IntegrationExpired,
    UpstreamError,
    UpstreamTransient,
)
from metrics_connect.connectors.retry import retry_within_budget
from metrics_connect.networks.instagram_business.connector.errors import (
    GraphFailure,
    classify,
    is_retryable,
    max_usage_percent,
    parse_failure,
)

log = logging.getLogger("metrics_connect.networks.instagram_business.connector")

T = TypeVar("T")

# Graph batch requests take at most 50 operations.
BATCH_LIMIT = 50
# Usage headers at or above this share of the quota: pause a little between calls.
NEAR_LIMIT_PERCENT = 95.0
NEAR_LIMIT_PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class BatchItem:
    """One operation of a batch: a relative URL (version-less) and its query."""

    path: str
    params: dict[str, str]

    def relative_url(self, version: str) -> str:
        query = urlencode(self.params, safe=",")
        return f"{version}/{self.path.lstrip('/')}" + (f"?{query}" if query else "")


class GraphClient:
    def __init__(self, ctx: ConnectorContext) -> None:
        self.ctx = ctx
        self.version = str(getattr(ctx.settings, "graph_api_version", "v21.0"))
        self.budget = float(getattr(ctx.settings, "upstream_retry_budget_seconds", 20.0))
        self.base = ctx.base_url.rstrip("/")
        self.pause_seconds = 0.0
        self.pace_near_limit = True
        # The highest quota usage the headers reported to this client (the sync's
        # scheduler lets an account near its quota wait).
        self.usage_percent: float | None = None

    @property
    def _token(self) -> str:
        token = self.ctx.credentials.get("access_token")
        if not token:
            raise IntegrationExpired("no access token stored for this integration")
        return str(token)

    # --- plain reads ---

    async def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        url = f"{self.base}/{self.version}/{path.lstrip('/')}"
        return await self._retrying(path, lambda: self._get_once(path, url, params))

    async def _get_once(self, endpoint: str, url: str, params: dict[str, str]) -> dict[str, Any]:
        query = {**params, "access_token": self._token}
        response = await self._send(endpoint, "GET", url, params=query)
        return self._json_or_raise(endpoint, response)

    async def paged(
        self, path: str, params: dict[str, str], *, max_pages: int = 1000
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a cursor-paged edge, following `paging.next`/`cursors.after`."""
        query = dict(params)
        for _ in range(max_pages):
            page = await self.get(path, query)
            for item in page.get("data") or []:
                if isinstance(item, dict):
                    yield item
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            next_query = dict(parse_qsl(urlsplit(str(paging["next"])).query))
            next_query.pop("access_token", None)
            query = {**query, **next_query, "after": str(after)}

    # --- batch requests ---

    async def batch(self, items: list[BatchItem]) -> list[dict[str, Any] | UpstreamError]:
        """Each item's JSON body, or its classified error, in order (50 per HTTP call).

        Items answered with a rate limit, a transient error or nothing at all (Graph
        answers `null` for operations that did not run in time) are retried, within the
        same budget, in smaller follow-up batches.
        """
        results: list[dict[str, Any] | UpstreamError] = []
        for start in range(0, len(items), BATCH_LIMIT):
            chunk = items[start : start + BATCH_LIMIT]
            results.extend(await self._batch_chunk(chunk))
        return results

    async def _batch_chunk(self, chunk: list[BatchItem]) -> list[dict[str, Any] | UpstreamError]:
        pending = list(range(len(chunk)))
        out: dict[int, dict[str, Any] | UpstreamError] = {}

        async def attempt() -> None:
            nonlocal pending
            answers = await self._batch_once([chunk[i] for i in pending])
            still: list[int] = []
            first_retryable: UpstreamError | None = None
            for index, answer in zip(pending, answers, strict=True):
                out[index] = answer
                if isinstance(answer, UpstreamError) and is_retryable(answer):
                    still.append(index)
                    first_retryable = first_retryable or answer
            pending = still
            if first_retryable is not None:
                raise first_retryable

        try:
            await self._retrying("batch", attempt)
        except UpstreamError as exc:
            if not is_retryable(exc):
                raise
            # Budget spent: the items still failing keep their last error; those the
            # batch never answered (the whole POST failed every time) get its error.
            for index in pending:
                out.setdefault(index, exc)
        return [out[i] for i in range(len(chunk))]

    async def _batch_once(self, items: list[BatchItem]) -> list[dict[str, Any] | UpstreamError]:
        operations = [
            {"method": "GET", "relative_url": i.relative_url(self.version)} for i in items
        ]
        data = {
            "batch": json.dumps(operations, separators=(",", ":")),
            "include_headers": "false",
            "access_token": self._token,
        }
        response = await self._send("batch", "POST", f"{self.base}/{self.version}/", data=data)
        body = self._json_or_raise("batch", response)
        answers = body if isinstance(body, list) else body.get("data")
        if not isinstance(answers, list) or len(answers) != len(items):
            raise UpstreamTransient("malformed batch response", upstream_code=response.status_code)
        out: list[dict[str, Any] | UpstreamError] = []
        for item, answer in zip(items, answers, strict=True):
            if not isinstance(answer, dict):
                out.append(UpstreamTransient("batch operation not completed in time"))
                continue
            status = int(answer.get("code") or 0)
            raw = answer.get("body")
            try:
                parsed = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                parsed = None
            if 200 <= status < 300 and isinstance(parsed, dict):
                out.append(parsed)
                continue
            failure = parse_failure(status, parsed)
            error = classify(failure, _batch_headers(answer))
            self._log_failure(item.path, failure)
            out.append(error)
        return out

    # --- plumbing ---

    async def _send(self, endpoint: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self.pause_seconds > 0:
            # The last answer said the hourly quota is nearly spent: slow down before
            # Meta starts refusing (then every call would cost a backoff).
            await asyncio.sleep(random.uniform(0.5, 1.0) * self.pause_seconds)
        try:
            response = await self.ctx.http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            self._log_failure(endpoint, GraphFailure(0, None, None, "timeout"))
            raise UpstreamTransient(f"timeout calling the Graph API ({endpoint})") from exc
        except httpx.TransportError as exc:
            self._log_failure(endpoint, GraphFailure(0, None, None, type(exc).__name__))
            raise UpstreamTransient(f"cannot reach the Graph API ({endpoint})") from exc
        usage = max_usage_percent(response.headers)
        if usage is not None:
            self.usage_percent = max(usage, self.usage_percent or 0.0)
        near_limit = usage is not None and usage >= NEAR_LIMIT_PERCENT
        self.pause_seconds = (
            NEAR_LIMIT_PAUSE_SECONDS
            if self.pace_near_limit and near_limit and response.status_code < 400
            else 0.0
        )
        return response

    def _json_or_raise(self, endpoint: str, response: httpx.Response) -> Any:
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 400 and body is not None and not _is_error_body(body):
            return body
        failure = parse_failure(response.status_code, body)
        self._log_failure(endpoint, failure)
        raise classify(failure, response.headers)

    def _log_failure(self, endpoint: str, failure: GraphFailure) -> None:
        log.warning(
            "instagram upstream failure",
            extra={
                "integration_uuid": self.ctx.integration_uuid,
                "endpoint": endpoint,
                "http_status": failure.status,
                "graph_code": failure.code,
                "graph_subcode": failure.subcode,
                "upstream_message": failure.message,
            },
        )

    async def _retrying(self, endpoint: str, call: Callable[[], Awaitable[T]]) -> T:
        return await retry_within_budget(call, self.budget, is_retryable)


def _is_error_body(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


def _batch_headers(answer: dict[str, Any]) -> dict[str, str]:
    headers = answer.get("headers")
    if not isinstance(headers, list):
        return {}
    return {
        str(h.get("name", "")).lower(): str(h.get("value", ""))
        for h in headers
        if isinstance(h, dict)
    }
