"""The emulator's HTTP face: tokens, fault switches, usage headers, batch requests.

Each HTTP request (and each operation of a batch) is recorded in the call counter under
its endpoint name before anything else, so tests see every attempt, failed or not.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metrics_connect.networks.instagram_business.emulator import errors
from metrics_connect.networks.instagram_business.emulator.errors import GraphError
from metrics_connect.networks.instagram_business.emulator.graph import (
    Call,
    GraphHandler,
    fbtrace_id,
    parse_path,
)
from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from metrics_connect.sandbox.accounts import is_sandbox_token

MAX_BATCH = 50
RATE_LIMIT_CODES = (4, 17, 32, 613)
INSIGHTS_ENDPOINTS = frozenset({"user_insights", "media_insights", "multi_id_insights"})


class UsageMeter:
    """Calls in the last hour of real (monotonic) time, reported as Graph's usage
    percentages (X-App-Usage, X-Business-Use-Case-Usage) and enforced at 100% with
    code 4. Real time, not the sandbox clock: a frozen or replayed clock must not
    exhaust or reset the budget."""

    WINDOW_SECONDS = 3600.0

    def __init__(self, hourly_budget: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.hourly_budget = hourly_budget
        self._clock = clock
        self._calls: deque[float] = deque()

    def record(self) -> None:
        self._calls.append(self._clock())

    def _trim(self) -> None:
        horizon = self._clock() - self.WINDOW_SECONDS
        while self._calls and self._calls[0] <= horizon:
            self._calls.popleft()

    def percent(self) -> int:
        self._trim()
        return min(100, len(self._calls) * 100 // max(1, self.hourly_budget))

    def exhausted(self) -> bool:
        """More calls in the window than the budget (the current call included)."""
        self._trim()
        return len(self._calls) > self.hourly_budget

    def minutes_to_regain(self) -> int:
        """Minutes until the oldest call leaves the window (0 when under budget)."""
        if self.percent() < 100 or not self._calls:
            return 0
        wait = self._calls[0] + self.WINDOW_SECONDS - self._clock()
        return max(1, int(wait // 60) + 1)


class InstagramGraphApp:
    """ASGI app emulating graph.facebook.com for one Instagram professional account."""

    def __init__(self, sandbox: InstagramSandbox, hourly_budget: int = 20_000) -> None:
        self.sandbox = sandbox
        # When set, the fault switches (rate limits, 5xx) hit each batch operation instead
        # of the whole batch, as Graph counts and throttles every operation on its own.
        self.faults_per_operation = False
        # Graph answers throttling with 403 (codes 4, 17, 32) or 400 (613); set e.g. 429 to
        # see how a client copes with a plain HTTP 429 carrying the same body.
        self.rate_limit_status: int | None = None
        self.controls = sandbox.controls
        self.handler = GraphHandler(sandbox)
        self.usage = UsageMeter(hourly_budget)
        self._rate_limit_turn = 0
        self._trace_counter = 0
        self._app = Starlette(
            routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST", "DELETE"])]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._app(scope, receive, send)

    # ------------------------------------------------------------ plumbing
    def _trace(self) -> str:
        self._trace_counter += 1
        return fbtrace_id(self.sandbox.seed, self._trace_counter)

    def _usage_headers(self, version: str, throttled: bool) -> dict[str, str]:
        pct = 100 if throttled else self.usage.percent()
        regain = self.usage.minutes_to_regain()
        app_usage = {"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2}
        buc = {
            self.sandbox.user_id: [
                {
                    "type": "instagram",
                    "call_count": pct,
                    "total_cputime": pct // 2,
                    "total_time": pct // 2,
                    "estimated_time_to_regain_access": regain,
                }
            ]
        }
        return {
            "x-app-usage": json.dumps(app_usage, separators=(",", ":")),
            "x-business-use-case-usage": json.dumps(buc, separators=(",", ":")),
            "facebook-api-version": version,
        }

    def _error_response(self, error: GraphError, version: str) -> JSONResponse:
        trace = self._trace()
        throttled = error.code in RATE_LIMIT_CODES
        headers = {**self._usage_headers(version, throttled), "x-fb-trace-id": trace}
        headers.update(error.headers)
        return JSONResponse(error.body(trace), status_code=error.status, headers=headers)

    def _check_token(self, token: str | None, endpoint: str) -> None:
        switches = self.controls.switches
        if not token:
            raise errors.missing_token()
        if not is_sandbox_token(token):
            raise errors.invalid_token()
        if token in switches.expired_tokens:
            now = self.sandbox.now()
            expired = now - timedelta(hours=1)
            raise errors.expired_token(
                expired.strftime("%A, %d-%b-%y %H:%M:%S UTC"),
                now.strftime("%A, %d-%b-%y %H:%M:%S UTC"),
            )
        if token in switches.revoked_tokens and endpoint != "batch":
            # A batch envelope goes through; each operation then fails on its own.
            code = (
                10
                if endpoint in INSIGHTS_ENDPOINTS
                or endpoint.startswith(("user", "media", "stories"))
                else 200
            )
            raise errors.permission_denied(code)

    def _check_faults(self) -> None:
        if self.usage.exhausted():
            raise errors.rate_limited(4)
        if self.controls.should_rate_limit():
            code = RATE_LIMIT_CODES[self._rate_limit_turn % len(RATE_LIMIT_CODES)]
            self._rate_limit_turn += 1
            error = errors.rate_limited(code)
            if self.rate_limit_status is not None:
                error.status = self.rate_limit_status
            raise error
        if self.controls.should_fail():
            raise errors.server_error(1 if self._trace_counter % 2 else 2)

    # ------------------------------------------------------------- requests
    async def _endpoint(self, request: Request) -> Response:
        await self.controls.apply_latency()
        params: dict[str, str] = dict(request.query_params)
        base_url = f"{request.url.scheme}://{request.url.netloc}"
        version = "v21.0"
        try:
            if request.method == "POST":
                params.update(await _body_params(request))
            token = params.pop("access_token", None) or _bearer(
                request.headers.get("authorization")
            )
            version, major, path = parse_path(request.url.path)
            if request.method == "POST" and "batch" in params:
                return await self._batch(params, token, version, base_url)
            endpoint = self.handler.endpoint_name(path, params)
            self.controls.calls.record(endpoint)
            self.usage.record()
            self._check_token(token, endpoint)
            self._check_faults()
            assert token is not None
            call = Call(request.method, version, major, path, params, base_url, token)
            body = self.handler.handle(call)
        except GraphError as error:
            return self._error_response(error, version)
        headers = {**self._usage_headers(version, False), "x-fb-trace-id": self._trace()}
        return JSONResponse(body, headers=headers)

    async def _batch(
        self, params: dict[str, str], token: str | None, version: str, base_url: str
    ) -> Response:
        self.controls.calls.record("batch")
        self.usage.record()
        self._check_token(token, "batch")
        if not self.faults_per_operation:
            self._check_faults()
        try:
            operations = json.loads(params["batch"])
        except json.JSONDecodeError as exc:
            raise errors.invalid_parameter("The parameter batch must be a JSON array") from exc
        if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
            raise errors.invalid_parameter("The parameter batch must be a JSON array of objects")
        if len(operations) > MAX_BATCH:
            raise errors.invalid_parameter(
                f"Too many requests in batch message. Maximum batch size is {MAX_BATCH}"
            )
        include_headers = params.get("include_headers", "true").lower() != "false"
        results = [
            self._batch_operation(op, token, version, base_url, include_headers)
            for op in operations
        ]
        headers = {**self._usage_headers(version, False), "x-fb-trace-id": self._trace()}
        return JSONResponse(results, headers=headers)

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
            op_version, major, path = parse_path(split.path)
            endpoint = self.handler.endpoint_name(path, params)
            self.controls.calls.record(endpoint)
            self.usage.record()
            self._check_token(op_token, endpoint)
            if self.faults_per_operation:
                self._check_faults()
            assert op_token is not None
            body = self.handler.handle(
                Call(method, op_version, major, path, params, base_url, op_token)
            )
            code, extra = 200, {}
        except GraphError as error:
            body, code, extra = error.body(self._trace()), error.status, error.headers
        result: dict[str, Any] = {"code": code}
        if include_headers:
            headers = {
                "Content-Type": "application/json; charset=UTF-8",
                **{k.title(): v for k, v in self._usage_headers(op_version, False).items()},
                **extra,
            }
            result["headers"] = [{"name": k, "value": v} for k, v in headers.items()]
        result["body"] = json.dumps(body)
        return result


async def _body_params(request: Request) -> dict[str, str]:
    """POST parameters from a form or a JSON object (non-string values JSON-encoded)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            payload = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as exc:
            raise errors.invalid_parameter("The request body must be valid JSON") from exc
        if not isinstance(payload, dict):
            raise errors.invalid_parameter("The request body must be a JSON object")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return None
