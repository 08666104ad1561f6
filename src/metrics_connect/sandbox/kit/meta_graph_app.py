"""A Graph API emulator's HTTP face: versions, tokens, fault switches, usage headers and
batch requests, around the network's own handler of a parsed call.

A network subclasses `GraphApp` with `endpoint_name` (what the call counter records),
`handle` (a call to a JSON body, raising GraphError) and `usage_headers`, and where its
API differs from the family's defaults, `token_error`, `check_faults` and `error_body`.
Each HTTP request (and each operation of a batch) is recorded in the call counter under
its endpoint name before anything else, so tests see every attempt, failed or not.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metrics_connect.sandbox.kit import meta_graph as graph
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.meta_graph import GraphError, UsageMeter
from metrics_connect.sandbox.kit.versions import ApiVersions, VersionRefused


class NoRoute(Exception):
    """A path or method the API has no route for (answered in Graph's error envelope:
    `no_route_error`)."""

    def __init__(self, status: int = 404, detail: str = "Not Found") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class Call:
    method: str
    version: str
    major: int
    path: list[str]
    params: dict[str, str]
    base_url: str
    token: str

    @property
    def url(self) -> str:
        """The call's URL without its query (what its paging URLs start with)."""
        return f"{self.base_url}/{self.version}/{'/'.join(self.path)}"


class GraphApp(ABC):
    """ASGI app emulating the Graph API host for one network's objects."""

    max_batch = 50
    supports_batch = True
    # Answers carry an x-fb-trace-id header (the trace id of their error body, if any).
    trace_header = True
    # Throttling codes answered in turn when the rate-limit switch fires.
    rate_limit_codes: tuple[int, ...] = (4, 17, 32, 613)
    # What a call to an expired version gets. The Graph API defaults it to the oldest
    # version still served ("once a version is no longer usable, any calls made to it will
    # be defaulted to the next oldest, usable version"); the Marketing API refuses it with
    # error #2635 (set False there).
    upgrade_expired_versions = True

    def __init__(
        self,
        controls: SandboxControls,
        versions: ApiVersions,
        now: Callable[[], datetime],
        trace_seed: object,
        hourly_budget: int,
    ) -> None:
        self.controls = controls
        self.versions = versions
        self.now = now
        # When set, the fault switches (rate limits, 5xx) hit each batch operation instead
        # of the whole batch, as Graph counts and throttles every operation on its own.
        self.faults_per_operation = False
        # Graph answers throttling with 403 (codes 4, 17, 32) or 400 (613); set e.g. 429 to
        # see how a client copes with a plain HTTP 429 carrying the same body.
        self.rate_limit_status: int | None = None
        self.usage = UsageMeter(hourly_budget)
        self._trace_seed = trace_seed
        self._rate_limit_turn = 0
        self._trace_counter = 0
        self._app = Starlette(
            routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST", "DELETE"])]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._app(scope, receive, send)

    # ----------------------------------------------------------- the network's part
    @abstractmethod
    def endpoint_name(self, method: str, path: list[str], params: dict[str, str]) -> str:
        """The call counter's name of a call; NoRoute when the API has no such path."""

    @abstractmethod
    def handle(self, call: Call) -> Any:
        """The answer's body of a call the network serves."""

    @abstractmethod
    def usage_headers(self, version: str, throttled: bool) -> dict[str, str]:
        """The usage headers the network sends with every answer."""

    def usage_report(self, usage_type: str, throttled: bool) -> dict[str, Any]:
        """The usage meter as X-Business-Use-Case-Usage reports a use case (its counts
        also X-App-Usage's): percentages of the hourly budget (100 when throttled) and
        the minutes until access is regained."""
        pct = 100 if throttled else self.usage.percent()
        return {
            "type": usage_type,
            "call_count": pct,
            "total_cputime": pct // 2,
            "total_time": pct // 2,
            "estimated_time_to_regain_access": self.usage.minutes_to_regain(),
        }

    def revoked(self, endpoint: str) -> GraphError:
        """The error of a token whose permission was revoked, on this endpoint."""
        return graph.permission_denied(200)

    def token_error(self, fault: TokenFault, endpoint: str) -> GraphError | None:
        """The error a token fault gets (None: the call goes through)."""
        if fault is TokenFault.MISSING:
            return graph.missing_token()
        if fault is TokenFault.FOREIGN:
            return graph.invalid_token()
        if fault is TokenFault.EXPIRED:
            now = self.now()
            return graph.expired_token(
                (now - timedelta(hours=1)).strftime("%A, %d-%b-%y %H:%M:%S UTC"),
                now.strftime("%A, %d-%b-%y %H:%M:%S UTC"),
            )
        if endpoint == "batch":
            return None  # A batch envelope goes through; each operation then fails on its own.
        return self.revoked(endpoint)

    def check_faults(self, endpoint: str) -> None:
        """Raise the throttling or server error the switches call for, if any."""
        if self.usage.exhausted():
            raise graph.rate_limited(4)
        if self.controls.should_rate_limit():
            code = self.rate_limit_codes[self._rate_limit_turn % len(self.rate_limit_codes)]
            self._rate_limit_turn += 1
            error = graph.rate_limited(code)
            if self.rate_limit_status is not None:
                error.status = self.rate_limit_status
            raise error
        if self.controls.should_fail():
            raise graph.server_error(1 if self._trace_counter % 2 else 2)

    def error_body(self, error: GraphError, trace: str) -> dict[str, Any]:
        return error.body(trace)

    def no_route_error(self, method: str, raw_path: str, missing: NoRoute) -> GraphError:
        """Graph's answer to a path or method it has no route for: never a web framework's
        {"detail"} body, which Graph clients cannot read."""
        segments = [s for s in raw_path.split("/") if s]
        if segments and self.versions.is_version(segments[0]):
            segments = segments[1:]
        if missing.status == 405 and segments:
            return graph.unsupported_method(method, segments[0])
        return graph.unknown_path("/".join(segments[1:] or segments))

    # ------------------------------------------------------------------ plumbing
    def _trace(self) -> str:
        self._trace_counter += 1
        return graph.fbtrace_id(self._trace_seed, self._trace_counter)

    def _error_response(self, error: GraphError, version: str) -> JSONResponse:
        trace = self._trace()
        throttled = error.code in self.rate_limit_codes
        headers = self.usage_headers(version, throttled)
        if self.trace_header:
            headers["x-fb-trace-id"] = trace
        headers.update(error.headers)
        return JSONResponse(
            self.error_body(error, trace), status_code=error.status, headers=headers
        )

    def _ok_response(self, body: Any, version: str) -> JSONResponse:
        headers = self.usage_headers(version, False)
        if self.trace_header:
            headers["x-fb-trace-id"] = self._trace()
        return JSONResponse(body, headers=headers)

    def split_path(self, raw_path: str) -> tuple[str, int, list[str]]:
        """'/v21.0/123/insights' -> version, major, segments (unversioned: the default)."""
        version, segments = self.versions.split_path(raw_path)
        today = self.now().date()
        try:
            major = self.versions.check(version, today)
        except VersionRefused as exc:
            if exc.reason == "unknown" or not self.upgrade_expired_versions:
                raise graph.deprecated_version(self.versions.latest(today)) from exc
            version = self.versions.oldest_served(today)
            major = self.versions.check(version, today)
        return version, major, segments

    def _check_token(self, token: str | None, endpoint: str) -> None:
        fault = self.controls.token_fault(token)
        error = self.token_error(fault, endpoint) if fault is not None else None
        if error is not None:
            raise error

    # ------------------------------------------------------------------ requests
    async def _endpoint(self, request: Request) -> Response:
        await self.controls.apply_latency()
        params: dict[str, str] = dict(request.query_params)
        base_url = f"{request.url.scheme}://{request.url.netloc}"
        version = self.versions.default
        try:
            if request.method == "POST":
                params.update(await graph.body_params(request))
            token = params.pop("access_token", None) or graph.bearer(
                request.headers.get("authorization")
            )
            version, major, path = self.split_path(request.url.path)
            if self.supports_batch and request.method == "POST" and "batch" in params:
                return await self._batch(params, token, version, base_url)
            endpoint = self.endpoint_name(request.method, path, params)
            self.controls.calls.record(endpoint)
            self.usage.record()
            self._check_token(token, endpoint)
            self.check_faults(endpoint)
            assert token is not None
            body = self.handle(Call(request.method, version, major, path, params, base_url, token))
        except GraphError as error:
            return self._error_response(error, version)
        except NoRoute as missing:
            return self._error_response(
                self.no_route_error(request.method, request.url.path, missing), version
            )
        return self._ok_response(body, version)

    async def _batch(
        self, params: dict[str, str], token: str | None, version: str, base_url: str
    ) -> Response:
        self.controls.calls.record("batch")
        self.usage.record()
        self._check_token(token, "batch")
        if not self.faults_per_operation:
            self.check_faults("batch")
        try:
            operations = json.loads(params["batch"])
        except json.JSONDecodeError as exc:
            raise graph.invalid_parameter("The parameter batch must be a JSON array") from exc
        if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
            raise graph.invalid_parameter("The parameter batch must be a JSON array of objects")
        if len(operations) > self.max_batch:
            raise graph.invalid_parameter(
                f"Too many requests in batch message. Maximum batch size is {self.max_batch}"
            )
        include_headers = params.get("include_headers", "true").lower() != "false"
        results = [
            self._batch_operation(op, token, version, base_url, include_headers)
            for op in operations
        ]
        return self._ok_response(results, version)

    def _batch_operation(
        self,
        operation: dict[str, Any],
        token: str | None,
        version: str,
        base_url: str,
        include_headers: bool,
    ) -> dict[str, Any]:
        relative = str(operation.get("relative_url", ""))
        method = str(operation.get("method", "GET")).upper()
        split = urlsplit(relative if relative.startswith("/") else "/" + relative)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        op_token = params.pop("access_token", None) or token
        op_version = version
        try:
            op_version, major, path = self.split_path(split.path)
            endpoint = self.endpoint_name(method, path, params)
            self.controls.calls.record(endpoint)
            self.usage.record()
            self._check_token(op_token, endpoint)
            if self.faults_per_operation:
                self.check_faults(endpoint)
            assert op_token is not None
            body = self.handle(Call(method, op_version, major, path, params, base_url, op_token))
            code, extra = 200, {}
        except GraphError as error:
            body, code, extra = self.error_body(error, self._trace()), error.status, error.headers
        except NoRoute as missing:
            refusal = self.no_route_error(method, split.path, missing)
            body, code = self.error_body(refusal, self._trace()), refusal.status
            extra = refusal.headers
        result: dict[str, Any] = {"code": code}
        if include_headers:
            headers = {
                "Content-Type": "application/json; charset=UTF-8",
                **{k.title(): v for k, v in self.usage_headers(op_version, False).items()},
                **extra,
            }
            result["headers"] = [{"name": k, "value": v} for k, v in headers.items()]
        result["body"] = json.dumps(body)
        return result
