"""The Rest.li 2.0 family's sandbox side (LinkedIn): query values in Rest.li 2.0 syntax,
the `LinkedIn-Version` header against the versions served and their sunsets, and the
error envelope `{"status", "serviceErrorCode", "code", "message"}`.

`RestliGate.admit` runs what every call goes through, in order: call counter, latency,
version and protocol headers, token rule, rate-limit and server-error switches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.versions import ApiVersions, VersionRefused

VERSION_PATTERN = re.compile(r"^(\d{6})(?:\.\d{2})?$")


def monthly_versions(first: str, last: str, months_supported: int = 12) -> ApiVersions:
    """LinkedIn's monthly versions from `first` to `last` (YYYYMM), each served for
    `months_supported` months after its release (sunset mid-month, as announced)."""
    released: dict[str, date] = {}
    end_of_life: dict[str, date] = {}
    year, month = int(first[:4]), int(first[4:])
    while f"{year}{month:02d}" <= last:
        name = f"{year}{month:02d}"
        released[name] = date(year, month, 1)
        sunset_month = month + months_supported
        end_of_life[name] = date(year + (sunset_month - 1) // 12, (sunset_month - 1) % 12 + 1, 15)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ApiVersions(
        pattern=VERSION_PATTERN, default=last, end_of_life=end_of_life, released=released
    )


class RestliError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        service_error_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.service_error_code = service_error_code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.service_error_code is not None:
            body["serviceErrorCode"] = self.service_error_code
        return body

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_request(message: str) -> RestliError:
    return RestliError(400, "ILLEGAL_ARGUMENT", message, 100)


# --- Rest.li 2.0 values ---


def parse_value(text: str) -> Any:
    """`List(a,b)` -> list, `(k:v,...)` -> dict, a leaf -> its decoded text."""
    value, rest = _value(text, 0)
    if rest != len(text):
        raise bad_request(f"Invalid Rest.li 2.0 value: {text}")
    return value


def _value(text: str, at: int) -> tuple[Any, int]:
    if text.startswith("List(", at):
        items: list[Any] = []
        at += 5
        while at < len(text) and text[at] != ")":
            item, at = _value(text, at)
            items.append(item)
            at += 1 if at < len(text) and text[at] == "," else 0
        return items, _close(text, at)
    if text.startswith("(", at):
        record: dict[str, Any] = {}
        at += 1
        while at < len(text) and text[at] != ")":
            colon = text.find(":", at)
            if colon < 0:
                raise bad_request(f"Invalid Rest.li 2.0 value: {text}")
            record[unquote(text[at:colon])], at = _value(text, colon + 1)
            at += 1 if at < len(text) and text[at] == "," else 0
        return record, _close(text, at)
    end = at
    while end < len(text) and text[end] not in "(),:":
        end += 1
    return unquote(text[at:end]), end


def _close(text: str, at: int) -> int:
    if at >= len(text) or text[at] != ")":
        raise bad_request(f"Invalid Rest.li 2.0 value: {text}")
    return at + 1


def query_values(request: Request, plain: tuple[str, ...] = ("fields",)) -> dict[str, Any]:
    """The raw query's parameters with Rest.li 2.0 values parsed (repeated names: last);
    `plain` ones (the comma-separated projection `fields`) are only decoded."""
    out: dict[str, Any] = {}
    for part in filter(None, request.url.query.split("&")):
        name, _, raw = part.partition("=")
        name = unquote(name)
        out[name] = unquote(raw) if name in plain else parse_value(raw)
    return out


def day_of(value: Any) -> date:
    """A Rest.li Date record `(year:..,month:..,day:..)`."""
    try:
        return date(int(value["year"]), int(value["month"]), int(value["day"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_request(f"Invalid date: {value}") from exc


def token_error(fault: TokenFault, endpoint: str) -> RestliError:
    if fault is TokenFault.EXPIRED:
        return RestliError(
            401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65602
        )
    if fault is TokenFault.REVOKED:
        return RestliError(
            403, "ACCESS_DENIED", f"Not enough permissions to access: {endpoint}", 100
        )
    return RestliError(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)


class RestliGate:
    def __init__(self, controls: SandboxControls, versions: ApiVersions) -> None:
        self.controls = controls
        self.versions = versions

    async def admit(self, request: Request, endpoint: str) -> None:
        """Raise the RestliError a call gets before the network looks at it, if any."""
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        version = request.headers.get("LinkedIn-Version")
        if not version:
            raise RestliError(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the "
                "LinkedIn-Version header.",
            )
        try:
            self.versions.check(version, controls.clock.now().date())
        except VersionRefused as exc:
            raise RestliError(
                426, "NONEXISTENT_VERSION", f"Requested version {exc.version} is not active"
            ) from exc
        if (
            "List(" in request.url.query
            and request.headers.get("x-restli-protocol-version") != "2.0.0"
        ):
            raise bad_request("Rest.li 2.0 syntax needs X-Restli-Protocol-Version: 2.0.0")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        fault = controls.token_fault(token.strip() if scheme.lower() == "bearer" else None)
        if fault is not None:
            raise token_error(fault, endpoint)
        if controls.should_rate_limit():
            wait = controls.switches.retry_after_seconds
            raise RestliError(
                429,
                "TOO_MANY_REQUESTS",
                "Resource level throttle APPLICATION DAY limit for calls to this resource "
                "is reached.",
                101,
                headers={"Retry-After": str(wait)},
            )
        if controls.should_fail():
            raise RestliError(503, "SERVICE_UNAVAILABLE", "Service Unavailable")


# The standardized data lookups (BATCH_GET): resource path -> URN prefix, answer shape.
LOOKUP_ROUTES: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "/rest/geo": ("urn:li:geo:", lambda name: {"defaultLocalizedName": {"value": name}}),
    "/rest/titles": ("urn:li:title:", lambda name: {"name": {"localized": {"en_US": name}}}),
    "/rest/industryTaxonomyVersions/DEFAULT/industries": (
        "urn:li:industry:",
        lambda name: {"name": {"localized": {"en_US": name}}},
    ),
    "/rest/organizationsLookup": ("urn:li:organization:", lambda name: {"localizedName": name}),
}


def add_lookup_routes(app: Starlette, gate: RestliGate, names: Mapping[str, str]) -> None:
    """GET {resource}?ids=List(...) for each lookup, answering the names it knows (by
    URN) as `results`, the others as 404 in `errors`."""

    def route(path: str, prefix: str, shape: Callable[[str], dict[str, Any]]) -> None:
        async def batch_get(request: Request) -> JSONResponse:
            try:
                await gate.admit(request, path.rsplit("/", 1)[-1])
                ids = query_values(request).get("ids")
                if not isinstance(ids, list):
                    raise bad_request("ids=List(...) is required")
            except RestliError as exc:
                return exc.response()
            known = {str(i): names[f"{prefix}{i}"] for i in ids if f"{prefix}{i}" in names}
            results = {
                i: {"id": int(i) if i.isdigit() else i, **shape(n)} for i, n in known.items()
            }
            errors = {str(i): {"status": 404} for i in ids if str(i) not in known}
            return JSONResponse({"results": results, "statuses": {}, "errors": errors})

        app.add_route(path, batch_get, methods=["GET"])

    for path, (prefix, shape) in LOOKUP_ROUTES.items():
        route(path, prefix, shape)
