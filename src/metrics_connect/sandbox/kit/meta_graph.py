"""The Meta Graph API family (Instagram, Meta Ads, Pages...): error envelope and the
family's standard errors, trace ids, request parameters and tokens, usage headers,
versions and time format. `meta_graph_app.GraphApp` builds an emulator's HTTP face on it.

An error answers with its HTTP status and
{"error": {"message", "type", "is_transient"?, "code", "error_subcode"?, "fbtrace_id"}}.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request

from metrics_connect.sandbox.kit.seeded import unit
from metrics_connect.sandbox.kit.spec import load_document
from metrics_connect.sandbox.kit.versions import GRAPH_VERSION_PATTERN, ApiVersions


@dataclass(frozen=True)
class GraphTexts:
    """The family's wire texts (meta_graph.yaml): the version header's name, the
    documentation's base URL that error messages link to, the standard messages."""

    version_header: str
    docs: str
    unsupported_request: str


TEXTS: GraphTexts = load_document(__package__, "meta_graph.yaml", GraphTexts)


def docs_link(page: str) -> str:
    """A documentation page's URL, as Graph's error messages link to it."""
    return TEXTS.docs + page


def version_header(version: str) -> dict[str, str]:
    """The header naming the version that answered, which Graph sends with every answer."""
    return {TEXTS.version_header: version}


class GraphError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        transient: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.subcode = subcode
        self.transient = transient
        self.headers = headers or {}

    def body(self, fbtrace_id: str, always_transient_flag: bool = False) -> dict[str, Any]:
        """The error object; `is_transient` only when true, unless the API always sends it
        (the Marketing API does)."""
        error: dict[str, Any] = {"message": self.message, "type": self.error_type}
        if self.transient or always_transient_flag:
            error["is_transient"] = self.transient
        error["code"] = self.code
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


# --- the family's standard errors -------------------------------------------------------


def invalid_parameter(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(400, 100, f"(#100) {message}", subcode=subcode)


def unknown_object(object_id: str) -> GraphError:
    return unsupported_method("GET", object_id)


def unsupported_method(method: str, object_id: str) -> GraphError:
    message = TEXTS.unsupported_request.format(
        method=method.lower(), object_id=object_id, docs=TEXTS.docs
    )
    return GraphError(400, 100, message, error_type="GraphMethodException", subcode=33)


def unknown_path(path: str) -> GraphError:
    return GraphError(400, 2500, f"Unknown path components: /{path}")


def nonexisting_field(field: str, node_type: str) -> GraphError:
    return invalid_parameter(
        f"Tried accessing nonexisting field ({field}) on node type ({node_type})"
    )


def missing_token() -> GraphError:
    return GraphError(400, 104, "An access token is required to request this resource.")


def invalid_token() -> GraphError:
    return GraphError(
        400,
        190,
        "Invalid OAuth access token - Cannot parse access token",
        headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Invalid token"'},
    )


def expired_token(expired_at: str, now: str) -> GraphError:
    return GraphError(
        400,
        190,
        f"Error validating access token: Session has expired on {expired_at}. "
        f"The current time is {now}.",
        subcode=463,
        headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Expired"'},
    )


def permission_denied(code: int) -> GraphError:
    if code == 10:
        return GraphError(403, 10, "(#10) Application does not have permission for this action")
    return GraphError(403, 200, "(#200) Missing Permissions")


RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}


def rate_limited(code: int) -> GraphError:
    # Graph answers the app/user/page throttles with 403 and the custom-rate one with 400.
    status = 400 if code == 613 else 403
    return GraphError(status, code, RATE_LIMIT_MESSAGES[code], transient=True)


def server_error(code: int) -> GraphError:
    if code == 2:
        return GraphError(
            503,
            2,
            "An unexpected error has occurred. Please retry your request later.",
            transient=True,
        )
    return GraphError(500, 1, "An unknown error occurred", transient=True)


def deprecated_version(latest: str) -> GraphError:
    """The Marketing API's refusal of an expired version (its own wording: "Ads API")."""
    return GraphError(
        400,
        2635,
        f"(#2635) You are calling a deprecated version of the Ads API. Please update to "
        f"the latest version: {latest}.",
    )


# --- trace ids, time, versions ----------------------------------------------------------

_TRACE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def fbtrace_id(*parts: object) -> str:
    """A trace id derived from its key parts (reproducible answers)."""
    return "".join(
        _TRACE_ALPHABET[int(unit("fbtrace", *parts, i) * len(_TRACE_ALPHABET))] for i in range(11)
    )


def random_fbtrace_id() -> str:
    return "A" + secrets.token_hex(10)


def graph_time(instant: datetime) -> str:
    """Timestamps as Graph writes them: UTC with a +0000 offset."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


# The newest Graph and Marketing API version (released 2026-11-04).
LATEST_VERSION = "v27.0"

# Release and expiration dates ("Expiration Date": the first day a version is no longer
# served), as Meta's version tables state them in December 2026: the Graph API changelog's
# versions page, and the Marketing API's (its own, shorter schedule). None: TBD.
_RELEASED = {
    "v16.0": date(2023, 2, 2),
    "v17.0": date(2023, 5, 23),
    "v18.0": date(2023, 9, 12),
    "v19.0": date(2024, 1, 23),
    "v20.0": date(2024, 5, 21),
    "v21.0": date(2024, 10, 2),
    "v22.0": date(2025, 1, 21),
    "v23.0": date(2025, 5, 29),
    "v24.0": date(2025, 10, 8),
    "v25.0": date(2026, 2, 18),
    "v26.0": date(2026, 7, 29),
    "v27.0": date(2026, 11, 4),
}
GRAPH_API_EXPIRES = {
    "v16.0": date(2025, 5, 14),
    "v17.0": date(2025, 9, 12),
    "v18.0": date(2026, 1, 26),
    "v19.0": date(2026, 5, 21),
    "v20.0": date(2026, 9, 24),
    "v21.0": date(2027, 1, 21),
    "v22.0": date(2027, 5, 20),
    "v23.0": date(2027, 10, 8),
    "v24.0": date(2028, 2, 18),
    "v25.0": date(2028, 7, 29),
}
MARKETING_API_EXPIRES = {
    "v16.0": date(2024, 2, 6),
    "v17.0": date(2024, 5, 14),
    "v18.0": date(2024, 8, 13),
    "v19.0": date(2025, 2, 4),
    "v20.0": date(2025, 5, 6),
    "v21.0": date(2025, 9, 9),
    "v22.0": date(2026, 2, 19),
    "v23.0": date(2026, 6, 9),
    "v24.0": date(2026, 11, 10),
    "v25.0": date(2027, 2, 23),
}


def graph_versions(
    default: str = LATEST_VERSION, oldest_major: int | None = None, marketing: bool = False
) -> ApiVersions:
    """The Graph API's versions (or the Marketing API's, which expire sooner); a version's
    last day served is the day before its expiration date."""
    expires = MARKETING_API_EXPIRES if marketing else GRAPH_API_EXPIRES
    return ApiVersions(
        GRAPH_VERSION_PATTERN,
        default,
        oldest_major,
        end_of_life={v: day - timedelta(days=1) for v, day in expires.items()},
        released=dict(_RELEASED),
    )


# --- request parameters and tokens ------------------------------------------------------


async def body_params(request: Request) -> dict[str, str]:
    """POST parameters from a form or a JSON object (non-string values JSON-encoded)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            payload = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as exc:
            raise invalid_parameter("The request body must be valid JSON") from exc
        if not isinstance(payload, dict):
            raise invalid_parameter("The request body must be a JSON object")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def list_param(params: dict[str, str], name: str) -> list[str]:
    """A list parameter as Graph reads it: a JSON array (what the official SDKs send, e.g.
    `metric=["reach","views"]`) or comma-separated names; [] when absent or empty."""
    raw = (params.get(name) or "").strip()
    if raw.startswith("["):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise invalid_parameter(f"The parameter {name} must be a valid JSON array") from exc
        if not isinstance(value, list):
            raise invalid_parameter(f"The parameter {name} must be a valid JSON array")
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in raw.split(",") if part.strip()]


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer|OAuth <token>` header."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return None


# --- usage headers ----------------------------------------------------------------------


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
