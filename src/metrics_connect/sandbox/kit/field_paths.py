"""Partial responses by dotted field paths, as a JSON REST API's `fields` and
`exclude_fields` parameters ask for them: comma-separated paths such as
`reports.opens.open_rate` (a collection's key included) keep, or drop, those fields at
any depth of an answer; lists are walked through, so a path names a field of every item."""

from __future__ import annotations

from typing import Any


def _filtered(node: Any, paths: list[list[str]], include: bool) -> Any:
    if isinstance(node, list):
        return [_filtered(n, paths, include) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        below = [p[1:] for p in paths if p and p[0] == key]
        if include and not below:
            continue
        if not include and [] in below:
            continue
        deeper = [p for p in below if p]
        out[key] = _filtered(value, deeper, include) if deeper or not include else value
    return out


def select_fields(body: Any, fields: str | None, exclude_fields: str | None) -> Any:
    """`body` with only the `fields` paths (when given), then without the
    `exclude_fields` paths (when given)."""
    if fields:
        body = _filtered(body, [f.split(".") for f in fields.split(",")], True)
    if exclude_fields:
        body = _filtered(body, [f.split(".") for f in exclude_fields.split(",")], False)
    return body
