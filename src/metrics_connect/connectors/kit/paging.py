"""Paginators: from one page's answer, the parameters of the next page (or None).

cursor (Graph's paging.cursors.after), offset/total (Google's limit/offset/rowCount),
offset up to a short page (Search Console's rowLimit/startRow, which tells no total),
page number, page token, and the RFC 8288 Link header's rel="next".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from metrics_connect.connectors.kit.spec import Paginator, dig


def first_page(paginator: Paginator, params: Mapping[str, Any]) -> dict[str, Any]:
    """The first page's parameters: the page size (unless the template set it) and offset."""
    out = dict(params)
    if paginator.page_size is not None and paginator.type != "none":
        out.setdefault(paginator.page_size_param, _sized(paginator, paginator.page_size))
    if paginator.type in ("offset_total", "offset"):
        out.setdefault(paginator.offset_param, 0 if paginator.in_body else "0")
    if paginator.type == "page_number":
        out.setdefault(paginator.param, "1")
    return out


def next_page(
    paginator: Paginator,
    params: Mapping[str, Any],
    body: Any,
    records: list[dict[str, Any]],
    headers: Mapping[str, str] | None = None,
    secret_params: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    kind = paginator.type
    if kind == "none" or (not records and kind != "cursor"):
        return None
    if kind == "cursor" or kind == "page_token":
        cursor = dig(body, paginator.cursor_path)
        link = dig(body, paginator.next_path) if paginator.next_path else True
        if not cursor or not link:
            return None
        out = dict(params)
        if paginator.merge_next_query and isinstance(link, str):
            query = dict(parse_qsl(urlsplit(link).query))
            out |= {k: v for k, v in query.items() if k not in secret_params}
        return out | {paginator.param: str(cursor)}
    if kind == "offset_total":
        offset = int(params.get(paginator.offset_param) or 0) + len(records)
        total = int(dig(body, paginator.total_path) or 0)
        if offset >= total:
            return None
        return dict(params) | {paginator.offset_param: _sized(paginator, offset)}
    if kind == "offset":
        if paginator.page_size is not None and len(records) < paginator.page_size:
            return None
        offset = int(params.get(paginator.offset_param) or 0) + len(records)
        return dict(params) | {paginator.offset_param: _sized(paginator, offset)}
    if kind == "page_number":
        if paginator.page_size is not None and len(records) < paginator.page_size:
            return None
        return dict(params) | {paginator.param: str(int(params.get(paginator.param) or 1) + 1)}
    # link_header: the next page's query, as the server wrote it.
    link = httpx.Headers(headers or {}).get("link")
    target = _next_link(link) if link else None
    if target is None:
        return None
    query = dict(parse_qsl(urlsplit(target).query))
    return {k: v for k, v in query.items() if k not in secret_params}


def _sized(paginator: Paginator, value: int) -> Any:
    return value if paginator.in_body else str(value)


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        url, _, rest = part.partition(";")
        if 'rel="next"' in rest.replace(" ", "") or "rel=next" in rest.replace(" ", ""):
            return url.strip().strip("<>")
    return None
