"""JSON request bodies parsed once, strictly and with bounded nesting.

FastAPI's own parsing answers 400 "There was an error parsing the body" for a body
that is not UTF-8 or nested deeper than the interpreter's recursion limit, and lets
through nesting that later breaks pydantic's serializer (about 255 levels) deep
inside free-form fields such as `metrics[].custom`. Every JSON route of the API is a
`JsonBodyRoute`: it parses the body here first, so each of those is a 422 in the API's
error format naming the field, and the route then reuses the parsed value.
"""

from __future__ import annotations

import email.message
import functools
import json
import types
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from metrics_connect.api.errors import ApiError, unprocessable

# Far deeper than any real request (a widget's `custom` sits at level 4), and below
# pydantic's serialization limit (about 255 levels), so that a parsed body can always
# be dumped and fingerprinted.
MAX_JSON_DEPTH = 200

TOO_DEEP = f"Nested deeper than {MAX_JSON_DEPTH} levels."

Path = list[str | int]


class BodyError(Exception):
    """A body refused while parsing: where (a path into the body) and why."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@functools.lru_cache(maxsize=64)
def is_json_content_type(content_type: str | None) -> bool:
    """As FastAPI decides: no Content-Type, application/json or application/*+json.
    Memoised: parsing the header with `email.message` costs more than a lookup, and
    clients send a handful of distinct values."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def parse_json_body(raw: bytes) -> Any:
    """The JSON value of `raw`, or BodyError: not UTF-8, not JSON, or nested too deep."""
    try:
        text = raw.decode("utf-8-sig")  # a leading BOM is tolerated, as before
    except UnicodeDecodeError:
        raise BodyError([], "The body is not valid UTF-8.") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise BodyError([], "The body is not valid JSON.") from None
    except RecursionError:
        # Deeper than the parser itself can go (about 1,000 levels): no path to name.
        raise BodyError([], TOO_DEEP) from None
    # A body with fewer opening brackets than the limit cannot nest deeper than it:
    # most bodies skip the walk.
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        raise BodyError(_too_deep_path(value, MAX_JSON_DEPTH), TOO_DEEP)
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels: level by level, no recursion."""
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for node in level:
            children = node.values() if type(node) is dict else node
            below += [c for c in children if type(c) is dict or type(c) is list]
        level = below
    return False


def _too_deep_path(value: Any, limit: int) -> Path:
    """The path of the first container at level `limit + 1` (only called when one exists)."""
    stack: list[tuple[Any, int, Path]] = [(value, 1, [])]
    while stack:
        node, depth, path = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return [*path, key]
                stack.append((child, depth + 1, [*path, key]))
    return []


def named_field(body_type: Any, path: Sequence[str | int]) -> Path:
    """The part of `path` the body's schema names: down to the first free-form field.

    `metrics.0.custom.a.a.a...` is reported as `metrics.0.custom` for a widget's
    `custom: dict[str, Any]`; a key the schema does not know ends the path there.
    """
    named: Path = []
    current: Any = body_type
    for segment in path:
        named.append(segment)
        current = _child_type(current, segment)
        if current is None or not _is_structured(current):
            break
    return named


def _options(annotation: Any) -> tuple[Any, ...]:
    """The alternatives of a type: the members of a union, Annotated unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _options(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return tuple(o for arg in get_args(annotation) for o in _options(arg))
    return (annotation,)


def _child_type(annotation: Any, segment: str | int) -> Any:
    for option in _options(annotation):
        if isinstance(segment, int) and get_origin(option) is list:
            return get_args(option)[0] if get_args(option) else Any
        if (
            isinstance(segment, str)
            and isinstance(option, type)
            and issubclass(option, BaseModel)
            and segment in option.model_fields
        ):
            return option.model_fields[segment].annotation
    return None


def _is_structured(annotation: Any) -> bool:
    """A model or a list: a type whose parts have names in the schema."""
    return any(
        get_origin(option) is list or (isinstance(option, type) and issubclass(option, BaseModel))
        for option in _options(annotation)
    )


class JsonBodyRoute(APIRoute):
    """An API route whose JSON body is parsed by `parse_json_body` before FastAPI's turn."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = self.body_handler()
        if self.body_field is None:
            return handler
        body_type = self.body_field.type_

        async def parse_then_handle(request: Request) -> Response:
            try:
                raw = await request.body()
            except ClientDisconnect:
                # Gone mid-body (or cut off by the size limit, which answers 413 itself).
                raise ApiError(400, "The body was not received in full.") from None
            if raw and is_json_content_type(request.headers.get("content-type")):
                try:
                    value = parse_json_body(raw)
                except BodyError as exc:
                    path = named_field(body_type, exc.path)
                    key = ".".join(str(p) for p in path) or "body"
                    raise unprocessable({key: [exc.message]}) from None
                # Starlette's Request.json() returns this cached value: FastAPI and the
                # handlers never parse the body a second time.
                request._json = value
            return await handler(request)

        return parse_then_handle

    def body_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """What handles the request once its body is parsed: FastAPI's own handler."""
        return super().get_route_handler()
