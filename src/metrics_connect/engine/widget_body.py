"""One widget's body over its period and, if asked, the comparison period."""

from __future__ import annotations

from typing import Any

from metrics_connect.engine.aggregate import Aggregator
from metrics_connect.engine.components import render
from metrics_connect.engine.model import ResolvedWidget, WidgetError


def render_one(
    widget: ResolvedWidget, current: Aggregator, previous: Aggregator | None
) -> dict[str, Any]:
    """The widget's body; a comparison period without data leaves the comparison null."""
    try:
        return render(widget, current, previous)
    except WidgetError as exc:
        if previous is None:
            return exc.body()
        try:
            body = render(widget, current, None)
        except WidgetError:
            return exc.body()
        if "comparison" not in body:
            return body
        body["comparison"] = {key: None for key in body["comparison"]}
        return body
