"""The sandbox kit's partial responses: dotted paths kept or dropped at any depth,
through lists, and both at once (fields first)."""

from __future__ import annotations

from typing import Any

from metrics_connect.sandbox.kit.field_paths import select_fields

BODY: dict[str, Any] = {
    "reports": [
        {"id": "a", "opens": {"total": 3, "rate": 0.5}, "tags": ["x"]},
        {"id": "b", "opens": {"total": 1, "rate": 0.1}, "tags": []},
    ],
    "total_items": 2,
    "_links": [],
}


def test_nothing_asked_leaves_the_answer() -> None:
    assert select_fields(BODY, None, None) == BODY and select_fields(BODY, "", "") == BODY


def test_fields_keep_the_named_paths() -> None:
    kept = select_fields(BODY, "reports.id,reports.opens.rate,total_items", None)
    assert kept == {
        "reports": [{"id": "a", "opens": {"rate": 0.5}}, {"id": "b", "opens": {"rate": 0.1}}],
        "total_items": 2,
    }
    assert select_fields(BODY, "reports", None) == {"reports": BODY["reports"]}


def test_exclude_fields_drop_the_named_paths() -> None:
    dropped = select_fields(BODY, None, "reports.opens.total,_links,reports.tags")
    assert dropped == {
        "reports": [{"id": "a", "opens": {"rate": 0.5}}, {"id": "b", "opens": {"rate": 0.1}}],
        "total_items": 2,
    }


def test_fields_then_exclusions() -> None:
    both = select_fields(BODY, "reports.opens,total_items", "reports.opens.total")
    assert both == {
        "reports": [{"opens": {"rate": 0.5}}, {"opens": {"rate": 0.1}}],
        "total_items": 2,
    }
