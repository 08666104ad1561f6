"""Paging as networks serve it: opaque cursors (Graph), offset/total, page number with a
Link header or with `page_info`, page tokens (Google). Each takes the full ordered list
and answers one page; cursors are positions, so a page asked later still starts where
the last one ended."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")


class BadPageRequest(ValueError):
    """A cursor, token, page or limit the network would refuse."""


def encode_offset(offset: int) -> str:
    """An offset as a standard base64 cursor (the Marketing API's `MA==`, `MjU=`...)."""
    return base64.b64encode(str(offset).encode()).decode()


def decode_offset(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor).decode())
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise BadPageRequest("invalid cursor") from exc


def encode_key(key: str) -> str:
    """A sort key as an unpadded URL-safe base64 cursor (Instagram's media cursors)."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_key(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadPageRequest("invalid cursor") from exc


def url_with(base_url: str, params: Mapping[str, str], **changes: str) -> str:
    """The URL of another page: the request's parameters with some replaced."""
    query = {**params, **changes}
    return f"{base_url}?{urlencode(query)}"


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    """A page size parameter, capped at the network's maximum."""
    if raw is None or raw == "":
        return default
    try:
        limit = int(raw)
    except ValueError as exc:
        raise BadPageRequest("invalid limit") from exc
    if limit < 1:
        raise BadPageRequest("invalid limit")
    return min(limit, maximum)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    offset: int
    limit: int
    total: int

    @property
    def end(self) -> int:
        return self.offset + len(self.items)

    @property
    def has_more(self) -> bool:
        return self.end < self.total


def page_at(items: Sequence[T], offset: int, limit: int) -> Page[T]:
    if offset < 0:
        raise BadPageRequest("invalid offset")
    return Page(items[offset : offset + limit], offset, limit, len(items))


def graph_offset_page(
    items: Sequence[Any], offset: int, limit: int, base_url: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """A Graph list page with offset cursors: {"data", "paging": {"cursors", "next"?}}."""
    page = page_at(items, offset, limit)
    body: dict[str, Any] = {"data": list(page.items)}
    if page.items:
        cursors = {"before": encode_offset(offset), "after": encode_offset(page.end)}
        body["paging"] = {"cursors": cursors}
        if page.has_more:
            query = {k: v for k, v in params.items() if k != "access_token"}
            body["paging"]["next"] = url_with(
                base_url, query, after=cursors["after"], limit=str(limit)
            )
    return body


def page_number_page(
    items: Sequence[Any], page: int, per_page: int, base_url: str, params: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A numbered page (1-based) with its total, and an RFC 8288 Link header (next, prev,
    first, last) as plain JSON REST APIs serve them."""
    if page < 1:
        raise BadPageRequest("invalid page")
    current = page_at(items, (page - 1) * per_page, per_page)
    last = max(1, -(-len(items) // per_page))
    body = {"data": list(current.items), "page": page, "per_page": per_page, "total": len(items)}
    links = {"first": 1, "last": last}
    if page > 1:
        links["prev"] = min(page - 1, last)
    if page < last:
        links["next"] = page + 1
    header = ", ".join(
        f'<{url_with(base_url, params, page=str(n), per_page=str(per_page))}>; rel="{rel}"'
        for rel, n in links.items()
    )
    return body, {"Link": header}


def page_info_page(items: Sequence[Any], page: int, page_size: int) -> dict[str, Any]:
    """A numbered page (1-based) as `{"list", "page_info": {page, page_size, total_number,
    total_page}}` (code-envelope APIs); a page past the end is empty."""
    first = (page - 1) * page_size
    total = len(items)
    return {
        "list": list(items[first : first + page_size]),
        "page_info": {
            "page": page,
            "page_size": page_size,
            "total_number": total,
            "total_page": (total + page_size - 1) // page_size,
        },
    }


def page_token_page(
    items: Sequence[Any], token: str | None, page_size: int, key: str = "items"
) -> dict[str, Any]:
    """A page by opaque token, Google style: {key: [...], "nextPageToken"?}."""
    offset = decode_key(token).removeprefix("o:") if token else "0"
    if not offset.isdigit():
        raise BadPageRequest("invalid page token")
    page = page_at(items, int(offset), page_size)
    body: dict[str, Any] = {key: list(page.items)}
    if page.has_more:
        body["nextPageToken"] = encode_key(f"o:{page.end}")
    return body


def next_cursor_page(
    items: Sequence[Any], params: Mapping[str, str], default: int, maximum: int
) -> dict[str, Any]:
    """A page by `count` and `cursor` (an opaque offset), X style: {"data": [...],
    "next_cursor": "..." | null}; `with_total_count=true` adds "total_count"."""
    cursor = params.get("cursor") or "0"
    if not cursor.isdigit():
        raise BadPageRequest("invalid cursor")
    page = page_at(items, int(cursor), parse_limit(params.get("count"), default, maximum))
    body: dict[str, Any] = {
        "data": list(page.items),
        "next_cursor": str(page.end) if page.has_more else None,
    }
    if params.get("with_total_count", "").lower() == "true":
        body["total_count"] = page.total
    return body
