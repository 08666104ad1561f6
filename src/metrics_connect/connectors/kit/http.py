"""The one HTTP client of every kit connector: auth placement, the error map, retries.

Rate limits and transient failures are retried with exponential backoff and full jitter
(tenacity, connectors/retry.py) until `upstream_retry_budget_seconds` runs out, never
sooner than the network's own retry-after. Every failure is logged with the
integration, the endpoint and the upstream code; the token never is. An API family
subclasses it for its error envelope, and its extras (Graph batches, Google refresh).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import httpx

from metrics_connect.connectors.base import (
    ConnectorContext,
    IntegrationExpired,
    UpstreamTransient,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.errors import ErrorMap, Failure, is_retryable
from metrics_connect.connectors.kit.oauth import (
    client_credentials_with_provider,
    oauth1_auth,
    refresh_access_token,
    refresh_with_provider,
)
from metrics_connect.connectors.kit.paging import first_page, next_page
from metrics_connect.connectors.kit.quotas import UpstreamQuota
from metrics_connect.connectors.kit.spec import (
    AsyncReport,
    Paginator,
    Requester,
    Selector,
    Streams,
    dig,
)
from metrics_connect.connectors.retry import retry_within_budget
from metrics_connect.networks.registry import oauth_provider

T = TypeVar("T")


class KitClient:
    family_name = "upstream API"
    # Names of the upstream code and subcode in failure logs.
    log_fields = ("upstream_code", "upstream_subcode")

    def __init__(self, ctx: ConnectorContext, streams: Streams) -> None:
        self.ctx = ctx
        self.streams = streams
        self.auth = streams.api.auth
        setting = streams.api.version_setting
        version = getattr(ctx.settings, setting, None) if setting else None
        self.version = str(version or streams.api.default_version)
        self.budget = float(getattr(ctx.settings, "upstream_retry_budget_seconds", 20.0))
        self.base = ctx.base_url.rstrip("/")
        self.errors = self.error_map()
        quota = streams.api.quota
        redis_url = getattr(ctx.settings, "redis_url", None)
        self.quota = UpstreamQuota(streams.network, quota, redis_url) if quota else None
        self._refreshed = False
        self.log = logging.getLogger(f"metrics_connect.networks.{streams.network}")

    # --- what a family says about its API ---

    def error_map(self) -> ErrorMap:
        return ErrorMap(self.streams.errors, {})

    def parse_failure(self, status: int, body: Any) -> Failure:
        return Failure(status=status, message=f"HTTP {status}")

    def is_error_body(self, body: Any) -> bool:
        return False

    def after_response(self, response: httpx.Response) -> None:
        """A family's look at every answer (Meta's usage headers, say)."""

    async def before_request(self) -> None:
        """A family's wait before every call (pacing near a quota, say)."""

    def family_headers(self) -> dict[str, str]:
        """Headers every call of the family carries (an API version, a protocol)."""
        return {}

    def quota_spent(self) -> dict[str, float]:
        """What the network's quota counted for this client's calls, by unit (Google's
        property tokens); empty where the network does not say."""
        return {}

    # --- calls ---

    @property
    def token(self) -> str:
        key = "oauth_token" if self.auth.placement == "oauth1" else "access_token"
        token = self.ctx.credentials.get(key) or self.ctx.credentials.get("access_token")
        if not token:
            raise IntegrationExpired("no access token stored for this integration")
        return str(token)

    def oauth1(self) -> httpx.Auth:
        """The OAuth 1.0a signer of this integration's calls (auth.placement: oauth1)."""
        provider = self.auth.oauth1_provider or ""
        settings = self.ctx.settings
        credentials = {**self.ctx.credentials, "oauth_token": self.token}
        return oauth1_auth(
            getattr(settings, f"{provider}_client_id", None),
            getattr(settings, f"{provider}_client_secret", None),
            credentials,
        )

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    async def send(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One attempt. Query auth goes in the query (GET) or the form (POST)."""
        await self.before_request()
        if self.quota is not None:
            await self.quota.acquire(self.ctx.external_id, self.budget)
        kwargs: dict[str, Any] = {}
        headers: dict[str, str] = self.family_headers()
        values = dict(params or {})
        if self.auth.placement == "query":
            values[self.auth.param] = self.token
        elif self.auth.placement == "header":
            headers[self.auth.param] = self.token
        elif self.auth.placement == "oauth1":
            kwargs["auth"] = self.oauth1()
        else:
            headers["Authorization"] = f"Bearer {self.token}"
        if json is not None:
            kwargs["json"] = json
            if values:
                kwargs["params"] = values
        elif method == "GET":
            if values:  # none: a query already in the path (Rest.li's) is kept as written
                kwargs["params"] = values
        else:
            kwargs["data"] = values
        if headers:
            kwargs["headers"] = headers
        slot = self.quota.slot(self.ctx.external_id) if self.quota else contextlib.nullcontext()
        try:
            async with slot:
                response = await self.ctx.http.request(method, self.url(path), **kwargs)
        except httpx.TimeoutException as exc:
            self.log_failure(endpoint, Failure(0, message="timeout"))
            raise UpstreamTransient(f"timeout calling the {self.family_name} ({endpoint})") from exc
        except httpx.TransportError as exc:
            self.log_failure(endpoint, Failure(0, message=type(exc).__name__))
            raise UpstreamTransient(f"cannot reach the {self.family_name} ({endpoint})") from exc
        self.after_response(response)
        return response

    def body_or_raise(self, endpoint: str, response: httpx.Response) -> Any:
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 400 and body is not None and not self.is_error_body(body):
            return body
        failure = self.parse_failure(response.status_code, body)
        self.log_failure(endpoint, failure)
        raise self.errors.classify(failure, response.headers)

    def log_failure(self, endpoint: str, failure: Failure) -> None:
        code, subcode = self.log_fields
        self.log.warning(
            f"{self.streams.log_name or self.streams.network} upstream failure",
            extra={
                "integration_uuid": self.ctx.integration_uuid,
                "endpoint": endpoint,
                "http_status": failure.status,
                code: failure.code if failure.code is not None else failure.status_text,
                subcode: failure.subcode,
                "upstream_message": failure.message,
            },
        )

    async def once(
        self, method: str, path: str, params: Mapping[str, Any], json: Any = None
    ) -> Any:
        return (await self.once_with_headers(method, path, params, json))[0]

    async def once_with_headers(
        self, method: str, path: str, params: Mapping[str, Any], json: Any = None
    ) -> tuple[Any, httpx.Headers]:
        """One attempt; an expired answer is tried once more after an OAuth refresh
        (once per client: a refreshed token that fails again is truly expired)."""
        endpoint = path.split("?")[0]
        try:
            response = await self.send(endpoint, method, path, params=params, json=json)
            return self.body_or_raise(endpoint, response), response.headers
        except IntegrationExpired:
            if self._refreshed or not await self.refresh():
                raise
        response = await self.send(endpoint, method, path, params=params, json=json)
        return self.body_or_raise(endpoint, response), response.headers

    async def refresh(self) -> bool:
        """Swap the stored refresh token for a new access token (the engine persists the
        changed credentials); False where the network has no refresh or it fails."""
        self._refreshed = True
        refresh_token = self.ctx.credentials.get("refresh_token")
        declared = oauth_provider(self.auth.refresh_provider or "")
        if declared is not None and declared.spec.protocol == "client_credentials":
            # No refresh token: the customer's own client asks for the next token.
            answer = await client_credentials_with_provider(
                self.ctx.http, self.ctx.settings, declared.name, self.ctx.credentials
            )
            if answer is None:
                return False
            self.ctx.credentials["access_token"] = str(answer["access_token"])
            return True
        if refresh_token and self.auth.refresh_provider:
            answer = await refresh_with_provider(
                self.ctx.http, self.ctx.settings, self.auth.refresh_provider, str(refresh_token)
            )
            if answer is None:
                return False
            self.ctx.credentials["access_token"] = str(answer["access_token"])
            if answer.get("refresh_token"):  # a provider that rotates refresh tokens
                self.ctx.credentials["refresh_token"] = str(answer["refresh_token"])
            return True
        url_setting = self.auth.refresh_token_url_setting
        url = getattr(self.ctx.settings, url_setting, None) if url_setting else None
        if not refresh_token or not url:
            return False

        def setting(name: str | None) -> str | None:
            value = getattr(self.ctx.settings, name, None) if name else None
            return str(value) if value else None

        token = await refresh_access_token(
            self.ctx.http,
            str(url),
            str(refresh_token),
            setting(self.auth.refresh_client_id_setting),
            setting(self.auth.refresh_client_secret_setting),
        )
        if token is None:
            return False
        self.ctx.credentials["access_token"] = token
        return True

    async def retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        return await retry_within_budget(call, self.budget, is_retryable)

    async def request(
        self, method: str, path: str, params: Mapping[str, Any], json: Any = None
    ) -> Any:
        """One call, retried within the budget."""
        return await self.retrying(lambda: self.once(method, path, params, json))

    async def get(self, path: str, params: Mapping[str, Any]) -> Any:
        return await self.request("GET", path, params)

    async def pages(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        paginator: Paginator,
        selector: Selector,
        json: Any = None,
    ) -> AsyncIterator[tuple[list[dict[str, Any]], Any]]:
        """Each page's records and body, fetched as the caller reads on (a listing
        newest first can stop at the first item older than it needs)."""
        in_body = paginator.in_body and json is not None
        query: dict[str, Any] = first_page(paginator, json if in_body else params)
        for _ in range(paginator.max_pages):
            page_params, page_json = (params, query) if in_body else (query, json)
            body, headers = await self.retrying(
                partial(self.once_with_headers, method, path, page_params, page_json)
            )
            page = select(body, selector)
            yield page, body
            following = next_page(paginator, query, body, page, headers, (self.auth.param,))
            if following is None:
                return
            query = following

    async def paged(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        paginator: Paginator,
        selector: Selector,
        json: Any = None,
    ) -> tuple[list[dict[str, Any]], Any]:
        """Every record of every page, and the first page's body."""
        records: list[dict[str, Any]] = []
        first: Any = None
        async for page, body in self.pages(method, path, params, paginator, selector, json):
            records.extend(page)
            first = body if first is None else first
        return records, first

    async def run(
        self, call: Call, requester: Requester, report: AsyncReport | None = None
    ) -> Answer:
        """A planned call and its follow-ups (further pages)."""
        records, body = await self.paged(
            call.method, call.path, call.params, requester.paginator, requester.selector, call.body
        )
        return Answer(call, records, body)


def select(body: Any, selector: Selector) -> list[dict[str, Any]]:
    """The records of an answer, with the selector's field renames."""
    found = dig(body, selector.records)
    items = found if isinstance(found, list) else ([found] if isinstance(found, dict) else [])
    records = [item for item in items if isinstance(item, dict)]
    if not selector.field_map:
        return records
    return [{selector.field_map.get(k, k): v for k, v in r.items()} for r in records]
