"""The sandbox kit's answer templates: values whole ($name), texts over the values,
nested members in their order, everything else as written."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from metrics_connect.sandbox.kit.templates import fill


@dataclass
class Video:
    id: str
    views: int


def test_values_texts_and_literals() -> None:
    template = {
        "kind": "api#video",
        "id": "{video.id}",
        "snippet": "$snippet",
        "statistics": {"viewCount": "{video.views}", "hidden": False, "favoriteCount": "0"},
        "tags": ["{stats[top]}", "$video.views", "$snippet.title"],
    }
    values = {"video": Video("abc", 42), "snippet": {"title": "Hi"}, "stats": {"top": "x"}}
    filled = fill(template, values)
    assert filled == {
        "kind": "api#video",
        "id": "abc",
        "snippet": {"title": "Hi"},
        "statistics": {"viewCount": "42", "hidden": False, "favoriteCount": "0"},
        "tags": ["x", 42, "Hi"],
    }
    assert list(filled) == list(template)
    assert fill(None, values) is None and fill(3.5, values) == 3.5


def test_a_missing_value_is_an_error() -> None:
    with pytest.raises(KeyError):
        fill({"id": "{nothing}"}, {})
    with pytest.raises(KeyError):
        fill("$nothing", {})
