"""The WordPress REST API family (`/wp-json/<namespace>/...`: WordPress itself, WooCommerce
and other plugins' namespaces), as WordPress answers for every namespace:

- errors are WP_Error bodies `{"code", "message", "data": {"status", ...}}` (`WpError`),
  a refused parameter `rest_invalid_param` naming it in `data.params` (`invalid_param`);
- collections are bare JSON arrays paged by `page` and `per_page` (1-100, 10 by default)
  with `X-WP-Total`, `X-WP-TotalPages` and a `Link` to the next page (`listing`);
- dates are read in site time (no offset: the site's zone) unless `dates_are_gmt=true`
  (`date_bounds`), bounds are exclusive (`within`), and objects carry each date twice:
  `date_<name>` in site time without an offset and `date_<name>_gmt` (`site_dates`);
- an API key pair comes by HTTP Basic or as query parameters (`key_pair`).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metrics_connect.sandbox.kit.params import int_param

MAX_PER_PAGE = 100


class WpError(Exception):
    """A WP_Error; `data` joins its `data` (a `retry_after` is also a Retry-After)."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def response(self) -> JSONResponse:
        data: dict[str, Any] = {"status": self.status, **self.data}
        body = {"code": self.code, "message": self.message, "data": data}
        wait = self.data.get("retry_after")
        headers = {"Retry-After": str(wait)} if wait is not None else None
        return JSONResponse(body, status_code=self.status, headers=headers)


def invalid_param(param: str, message: str) -> WpError:
    return WpError(
        400, "rest_invalid_param", f"Invalid parameter(s): {param}", params={param: message}
    )


def integer(value: str | None, default: int, name: str) -> int:
    return int_param(
        value, default, lambda _: invalid_param(name, f"{name} is not of type integer.")
    )


def one_of(value: str, values: list[str], name: str) -> str:
    """An enum argument's value, refused as WordPress refuses it."""
    if value not in values:
        raise invalid_param(name, f"{name} is not one of {', '.join(values)}.")
    return value


def enum_list(
    text: str, values: tuple[str, ...], name: str, extra: tuple[str, ...] = (), every: str = "any"
) -> set[str]:
    """A comma list of an enum argument; `every` stands for all of `values` (not the
    `extra` ones); the refusal lists the enum as WordPress does."""
    asked = {s.strip() for s in text.split(",") if s.strip()}
    if every in asked:
        asked = (asked - {every}) | set(values)
    if asked - set(values) - set(extra):
        enum = ", ".join((every, *values, *extra))
        raise invalid_param(name, f"{name}[0] is not one of {enum}.")
    return asked


def date_bounds(query: Mapping[str, str], zone: tzinfo, *names: str) -> dict[str, datetime | None]:
    """Date parameters in site time (`zone`), or UTC with `dates_are_gmt=true`."""
    is_gmt = query.get("dates_are_gmt", "false").lower() in ("1", "true")
    bounds: dict[str, datetime | None] = {}
    for name in names:
        value = query.get(name)
        if not value:
            bounds[name] = None
            continue
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise invalid_param(name, f"{name} is not a valid date.") from None
        bounds[name] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC if is_gmt else zone)
    return bounds


def within(at: datetime, after: datetime | None, before: datetime | None) -> bool:
    return (after is None or at > after) and (before is None or at < before)


def gmt(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if at is not None else None


def site_dates(name: str, at: datetime | None, zone: tzinfo) -> dict[str, str | None]:
    """`date_<name>` in site time (no offset, the site's zone) and `date_<name>_gmt`."""
    local = at.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S") if at else None
    return {f"date_{name}": local, f"date_{name}_gmt": gmt(at)}


def listing(
    request: Request, items: list[Any], shape: Callable[[Any], Any] = lambda item: item
) -> JSONResponse:
    """One page (`page`, `per_page`) with X-WP-Total(Pages) and the next page's Link."""
    query = request.query_params
    per_page = integer(query.get("per_page"), 10, "per_page")
    page = integer(query.get("page"), 1, "page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise invalid_param(
            "per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)"
        )
    if page < 1:
        raise invalid_param("page", "page must be greater than or equal to 1")
    body = [shape(item) for item in items[(page - 1) * per_page : page * per_page]]
    pages = max(1, math.ceil(len(items) / per_page)) if items else 0
    headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
    if page < pages:
        following = request.url.include_query_params(page=page + 1)
        headers["Link"] = f'<{following}>; rel="next"'
    return JSONResponse(body, headers=headers)


def key_pair(request: Request) -> tuple[str | None, str | None]:
    """The key and secret: HTTP Basic, else `consumer_key`/`consumer_secret` in the query
    (a Basic header that does not decode is no key at all)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            key, _, secret = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        return key, secret
    query = request.query_params
    return query.get("consumer_key"), query.get("consumer_secret")


Handler = Callable[[Request], Awaitable[Response]]


def wp_routes(routes: Iterable[tuple[str, Handler]]) -> list[Route]:
    """GET routes answering their handler's response, or its WpError's body."""

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except WpError as exc:
                return exc.response()

        return endpoint

    return [Route(path, guarded(handler)) for path, handler in routes]
