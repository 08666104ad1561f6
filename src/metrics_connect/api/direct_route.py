"""A route whose dependencies are called in a fixed order worked out once, not solved
per request.

FastAPI's `solve_dependencies` walks the dependency tree on every request: for each
dependency it asks `inspect` whether the callable is a generator or a coroutine,
builds a sub-response and reads the query, headers, cookies and path parameters of
every level. For POST /metrics/get-data (four dependencies, a query parameter and the
body) that walk cost more than the request's own work once its answer is cached. A
`DirectRoute` does what that walk does for its tree, in the same order, with the same
per-request cache of each dependency's value: the dependencies are coroutine
functions that take only the request and other dependencies, so the order is known
when the app is built. The endpoint's parameters and body are validated by FastAPI's
own functions, so errors keep their format. The route refuses, at build time, a tree
it cannot call this way (a `yield` dependency, a dependency with parameters of its
own, an endpoint that does not return a Response), and falls back to FastAPI's
handler while `app.dependency_overrides` is in use.
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi._compat import _normalize_errors
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import (
    is_async_gen_callable,
    is_coroutine_callable,
    is_gen_callable,
    request_body_to_args,
    request_params_to_args,
)
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import QueryParams

from metrics_connect.api.json_body import JsonBodyRoute, is_json_content_type

CacheKey = Any
_IMMUTABLE = (bool, int, float, str, bytes, type(None))


@dataclass(frozen=True)
class _Step:
    """One dependency: called once per request with the request and its own dependencies."""

    call: Callable[..., Awaitable[Any]]
    key: CacheKey
    arguments: tuple[tuple[str, CacheKey], ...]
    request_param: str | None


def _refuse(dependant: Dependant, why: str) -> TypeError:
    return TypeError(f"DirectRoute cannot call {dependant.call!r}: {why}")


def _takes_more_than_the_request(dependant: Dependant) -> bool:
    return bool(
        dependant.http_connection_param_name
        or dependant.websocket_param_name
        or dependant.background_tasks_param_name
        or dependant.response_param_name
        or dependant.security_scopes_param_name
    )


def _own_arguments(dependant: Dependant) -> tuple[tuple[str, CacheKey], ...]:
    return tuple((sub.name, sub.cache_key) for sub in dependant.dependencies if sub.name)


def _steps(dependant: Dependant, out: list[_Step], seen: set[CacheKey]) -> None:
    """`dependant`'s dependencies in the order solve_dependencies calls them: each one's
    own dependencies first, each (callable, scopes) once."""
    for sub in dependant.dependencies:
        call = sub.call
        if call is None or is_gen_callable(call) or is_async_gen_callable(call):
            raise _refuse(sub, "only plain coroutine functions (no yield)")
        if not is_coroutine_callable(call):
            raise _refuse(sub, "a plain function would run in a worker thread")
        if not sub.use_cache:
            raise _refuse(sub, "use_cache=False")
        if (
            sub.path_params
            or sub.query_params
            or sub.header_params
            or sub.cookie_params
            or sub.body_params
        ):
            raise _refuse(sub, "it reads request parameters through FastAPI")
        if _takes_more_than_the_request(sub):
            raise _refuse(sub, "it takes a parameter other than the Request")
        _steps(sub, out, seen)
        if sub.cache_key not in seen:
            seen.add(sub.cache_key)
            out.append(_Step(call, sub.cache_key, _own_arguments(sub), sub.request_param_name))


def _returns_response(call: Callable[..., Any]) -> bool:
    returned = typing.get_type_hints(call).get("return")
    return isinstance(returned, type) and issubclass(returned, Response)


async def _received_body(request: Request) -> Any:
    """The body as FastAPI's handler hands it to validation: None when empty, the JSON
    value for a JSON content type (parsed once, by JsonBodyRoute), else the bytes."""
    raw = await request.body()
    if not raw:
        return None
    if is_json_content_type(request.headers.get("content-type")):
        return await request.json()
    return raw


class DirectRoute(JsonBodyRoute):
    def body_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        fallback = super().body_handler()
        top = self.dependant
        endpoint = top.call
        if endpoint is None or not is_coroutine_callable(endpoint):
            raise _refuse(top, "the endpoint must be a coroutine function")
        if not _returns_response(endpoint):
            raise _refuse(top, "the endpoint must return a Response")
        if _takes_more_than_the_request(top):
            raise _refuse(top, "the endpoint takes a parameter other than the Request")
        steps: list[_Step] = []
        _steps(top, steps, set())
        arguments = _own_arguments(top)
        parameters = [
            (fields, source)
            for fields, source in (
                (top.path_params, "path_params"),
                (top.query_params, "query_params"),
                (top.header_params, "headers"),
                (top.cookie_params, "cookies"),
            )
            if fields
        ]
        # Without a query string (the usual request) each query parameter takes its
        # default: worked out once, unless that default could be mutated or is refused.
        query_defaults: dict[str, Any] | None = None
        if top.query_params:
            defaults, refused = request_params_to_args(top.query_params, QueryParams(b""))
            if not refused and all(type(v) in _IMMUTABLE for v in defaults.values()):
                query_defaults = defaults
        body_params = top.body_params
        embed = self._embed_body_fields
        overrides = self.dependency_overrides_provider

        async def handle(request: Request) -> Response:
            if overrides is not None and getattr(overrides, "dependency_overrides", None):
                return await fallback(request)
            solved: dict[CacheKey, Any] = {}
            for step in steps:
                kwargs = {name: solved[key] for name, key in step.arguments}
                if step.request_param:
                    kwargs[step.request_param] = request
                solved[step.key] = await step.call(**kwargs)
            values = {name: solved[key] for name, key in arguments}
            errors: list[Any] = []
            for fields, source in parameters:
                no_query = source == "query_params" and not request.scope["query_string"]
                if no_query and query_defaults is not None:
                    values.update(query_defaults)
                    continue
                found, wrong = request_params_to_args(fields, getattr(request, source))
                values.update(found)
                errors += wrong
            body = None
            if body_params:
                body = await _received_body(request)
                found, wrong = await request_body_to_args(body_params, body, embed)
                values.update(found)
                errors += wrong
            if top.request_param_name:
                values[top.request_param_name] = request
            if errors:
                raise RequestValidationError(_normalize_errors(errors), body=body)
            response: Response = await endpoint(**values)
            return response

        return handle
