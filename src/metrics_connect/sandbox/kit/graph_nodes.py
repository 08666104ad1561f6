"""Graph nodes and edges: a node's requested `fields` rendered in order, `?ids=` lookups of
several nodes at once, and the newest-first keyset pages of an edge (a media list) with
`before`/`after` cursors and `previous`/`next` URLs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from metrics_connect.sandbox.kit.graph_fields import FieldSpec, FieldSyntaxError, parse_fields
from metrics_connect.sandbox.kit.graph_insights import newest_first_bounds
from metrics_connect.sandbox.kit.meta_graph import (
    GraphError,
    invalid_parameter,
    list_param,
    nonexisting_field,
)
from metrics_connect.sandbox.kit.paging import BadPageRequest, decode_key, encode_key, url_with

T = TypeVar("T")
PAGE_KEYS = ("after", "before")


def requested_fields(params: dict[str, str], default: tuple[str, ...]) -> list[FieldSpec]:
    """The `fields` parameter parsed (`default` when absent)."""
    try:
        parsed = parse_fields(params.get("fields"))
    except FieldSyntaxError as exc:
        raise invalid_parameter(f"Syntax error in fields: {exc}") from exc
    return parsed or [FieldSpec(name) for name in default]


def render_node(specs: list[FieldSpec], values: dict[str, Any], node_type: str) -> dict[str, Any]:
    """The requested fields of a node, in order: a callable value is called with the
    field's spec (lazy or parametrised fields); a None value leaves the field out."""
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.name not in values:
            raise nonexisting_field(spec.name, node_type)
        value = values[spec.name]
        value = value(spec) if callable(value) else value
        if value is not None:
            out[spec.name] = value
    return out


def multi_ids(
    params: dict[str, str],
    exists: Callable[[str], bool],
    answer: Callable[[str, dict[str, str]], Any],
    max_ids: int = 50,
) -> dict[str, Any]:
    """`?ids=a,b`: each node's answer to the rest of the query, by id; refused whole when
    one of them does not exist."""
    ids = list_param(params, "ids")
    if len(ids) > max_ids:
        raise invalid_parameter(f"Too many IDs. Maximum: {max_ids}. Provided: {len(ids)}.")
    rest = {k: v for k, v in params.items() if k != "ids"}
    missing = [i for i in ids if not exists(i)]
    if missing:
        raise GraphError(
            404,
            803,
            f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}",
        )
    return {i: answer(i, rest) for i in ids}


def _cursor(key: tuple[int, str]) -> str:
    return encode_key(f"{key[0]}:{key[1]}")


def _cursor_key(cursor: str) -> tuple[int, str]:
    """A cursor's position; positions stay valid when the item itself has gone (a story)."""
    try:
        stamp, _, item_id = decode_key(cursor).partition(":")
    except BadPageRequest:
        stamp = item_id = ""
    if not stamp.isdigit() or not item_id:
        raise invalid_parameter("Invalid cursor")
    return int(stamp), item_id


def newest_first_page(
    items: Sequence[T],
    key: Callable[[T], tuple[int, str]],
    params: dict[str, str],
    edge_url: str,
    token: str,
    render: Callable[[Sequence[T]], list[Any]],
    default_limit: int = 25,
    max_limit: int = 100,
) -> dict[str, Any]:
    """A page of a newest-first edge whose items sort by `key` (a Unix time, an id):
    `after` walks to older items, `before` back to newer ones; `next`/`previous` repeat
    the query (with the token and the limit) from the page's cursors."""
    try:
        limit = max(1, min(int(params.get("limit", default_limit)), max_limit))
    except ValueError as exc:
        raise invalid_parameter("limit must be an integer") from exc
    after, before = (_cursor_key(params[k]) if params.get(k) else None for k in PAGE_KEYS)
    start, end = newest_first_bounds([key(m) for m in items], after, before, limit)
    page = items[start:end]
    body: dict[str, Any] = {"data": render(page)}
    if not page:
        return body
    cursors = {"before": _cursor(key(page[0])), "after": _cursor(key(page[-1]))}
    body["paging"] = {"cursors": cursors}
    query = {k: v for k, v in params.items() if k not in PAGE_KEYS}
    query["access_token"] = token
    query.setdefault("limit", str(default_limit))
    if end < len(items):
        body["paging"]["next"] = url_with(edge_url, query, after=cursors["after"])
    if start > 0:
        body["paging"]["previous"] = url_with(edge_url, query, before=cursors["before"])
    return body
