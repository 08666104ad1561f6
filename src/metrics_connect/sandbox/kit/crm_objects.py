"""CRM object APIs of the v3 style (a portal's records searched by property filters):

- errors `{"status": "error", "message", "correlationId", "category"}` (`CategoryError`),
  the token refusals (INVALID_AUTHENTICATION, EXPIRED_AUTHENTICATION, MISSING_SCOPES),
  RATE_LIMITS with its `policyName`, a 502 for the server-error switch (`admit`);
- search bodies: `filterGroups` (an OR of ANDed filters; at most 5 groups, 10 filters a
  group, 25 in all), property values compared as numbers, instants (ISO or epoch
  milliseconds) or text (`sortable`, `any_group`), one sort (`sort_found`), and
  `{"total", "results", "paging": {"next": {"after"}}}` pages (`after_page`);
- `json_route`: a route whose handler answers a dict, refusals as their envelope.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.engine.records import parse_instant
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.json_rest import credential
from metrics_connect.sandbox.kit.params import int_param
from metrics_connect.sandbox.kit.records import TimedRecord

Props = dict[str, Any]


class CategoryError(Exception):
    def __init__(self, status: int, category: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        body = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
            **self.extra,
        }
        return JSONResponse(body, status_code=self.status, headers=headers)


def invalid(message: str) -> CategoryError:
    return CategoryError(400, "VALIDATION_ERROR", message)


_TOKEN_ERRORS = {
    TokenFault.MISSING: (401, "INVALID_AUTHENTICATION", "Authentication credentials not found."),
    TokenFault.FOREIGN: (401, "INVALID_AUTHENTICATION", "The OAuth token used is not valid."),
    TokenFault.EXPIRED: (
        401,
        "EXPIRED_AUTHENTICATION",
        "The OAuth token used to make this call expired 2 minute(s) ago.",
    ),
    TokenFault.REVOKED: (
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call.",
    ),
}


def rate_limited(window: str = "ten_secondly_rolling") -> CategoryError:
    return CategoryError(
        429,
        "RATE_LIMITS",
        f"You have reached your {window} limit.",
        errorType="RATE_LIMIT",
        policyName=window.upper(),
    )


async def admit(
    controls: SandboxControls,
    request: Request,
    endpoint: str,
    quota: Callable[[], CategoryError | None] = lambda: None,
) -> None:
    """Raise the refusal a call gets before the portal looks at it: token, then the
    network's own `quota` (its windows), then the rate-limit and server-error switches."""
    controls.calls.record(endpoint)
    await controls.apply_latency()
    fault = controls.token_fault(credential(request))
    if fault is not None:
        raise CategoryError(*_TOKEN_ERRORS[fault])
    refused = quota()
    if refused is not None:
        raise refused
    if controls.should_rate_limit():
        raise rate_limited()
    if controls.should_fail():
        raise CategoryError(502, "INTERNAL_ERROR", "Bad gateway: try again.")


def json_route(
    path: str,
    handler: Callable[[Request], Awaitable[dict[str, Any]]],
    method: str = "GET",
    headers: Callable[[], dict[str, str]] = dict,
) -> Route:
    """A route answering the handler's dict; every answer carries `headers()`."""

    async def endpoint(request: Request) -> JSONResponse:
        try:
            body = await handler(request)
        except CategoryError as exc:
            return exc.response(headers())
        return JSONResponse(body, headers=headers())

    return Route(path, endpoint, methods=[method])


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise invalid("Invalid input JSON.") from None
    if not isinstance(body, dict):
        raise invalid("Invalid input JSON.")
    return body


def number(value: Any, default: int) -> int:
    return int_param(value, default, lambda v: invalid(f"{v!r} is not a number."))


def check_groups(groups: Sequence[dict[str, Any]]) -> None:
    sizes = [len(g.get("filters") or []) for g in groups]
    if len(groups) > 5 or sum(sizes) > 25 or any(size > 10 for size in sizes):
        raise invalid("Too many filterGroups or filters.")


@functools.lru_cache(maxsize=200_000)
def sortable(value: Any) -> tuple[int, float, str]:
    """A property value as the search compares it: numbers and instants by value."""
    if value in (None, ""):
        return (0, 0.0, "")
    text = str(value)
    try:
        return (1, float(text), "")
    except ValueError:
        pass
    instant = parse_instant(text) if "-" in text[:5] else None
    if instant is not None:
        return (1, instant.timestamp() * 1000, "")
    return (2, 0.0, text.lower())


def matches(flt: dict[str, Any], props: Props) -> bool:
    operator = str(flt.get("operator", "EQ")).upper()
    actual = props.get(str(flt.get("propertyName")))
    if operator == "HAS_PROPERTY":
        return actual not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return actual in (None, "")
    if actual in (None, ""):
        return operator == "NEQ"
    left = sortable(actual)
    if operator in ("IN", "NOT_IN"):
        values = {sortable(v) for v in flt.get("values") or []}
        return (left in values) == (operator == "IN")
    right = sortable(flt.get("value"))
    if operator == "BETWEEN":
        return right <= left <= sortable(flt.get("highValue"))
    if operator == "CONTAINS_TOKEN":
        return str(flt.get("value", "")).lower().strip("*") in str(actual).lower()
    checks = {
        "EQ": left == right,
        "NEQ": left != right,
        "LT": left < right,
        "LTE": left <= right,
        "GT": left > right,
        "GTE": left >= right,
    }
    if operator not in checks:
        raise invalid(f"Unknown operator {operator}.")
    return checks[operator]


def any_group(groups: Sequence[dict[str, Any]], props: Props) -> bool:
    if not groups:
        return True
    return any(all(matches(f, props) for f in g.get("filters") or []) for g in groups)


def sort_found(found: list[tuple[TimedRecord, Props]], sorts: Sequence[Any]) -> None:
    """Order search matches by the body's first sort (ties, and no sort: by numeric id)."""
    if not sorts:
        found.sort(key=lambda rp: int(rp[0].id))
        return
    sort = sorts[0] if isinstance(sorts[0], dict) else {"propertyName": str(sorts[0])}
    name = str(sort.get("propertyName") or "")
    descending = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
    found.sort(key=lambda rp: (sortable(rp[1].get(name)), int(rp[0].id)), reverse=descending)


def after_page(
    items: Sequence[Any], limit: int, after: int, shape: Callable[[Any], Any] = lambda x: x
) -> dict[str, Any]:
    """One page of `limit` items from position `after`, with the total."""
    body: dict[str, Any] = {
        "total": len(items),
        "results": [shape(item) for item in items[after : after + limit]],
    }
    if after + limit < len(items):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return body
