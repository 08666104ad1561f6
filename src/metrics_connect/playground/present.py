"""How an answer reads on the page: numbers, deltas, errors and plans in words."""

from __future__ import annotations

import json
from typing import Any

ERROR_WORDS: dict[str, str] = {
    "unknown_reference_key": "This widget belongs to another network's catalog.",
    "unknown_metric": "This network does not know one of the widget's metrics.",
    "unknown_dimension": "This network does not know one of the widget's dimensions.",
    "unsupported_combination": "These metrics and dimensions cannot be combined.",
    "upstream_error": "The network did not answer properly.",
    "upstream_rate_limited": "The network's rate limit stopped the request.",
    "integration_expired": "The connection has expired: the customer must reconnect it.",
    "integration_revoked": "The customer revoked the access: it must be reconnected.",
    "data_not_available": "The network no longer serves these days and they were never archived.",
}

UNIT_SUFFIX = {"percent": " %", "seconds": " s"}
CHART_TYPES = {"line", "bar", "pie", "doughnut"}
TIME_LABELS = {"Date", "Hour"}


def error_of(answer: dict[str, Any] | None) -> dict[str, str] | None:
    """The widget's error as {code, words, message}, or None when it answered."""
    if not isinstance(answer, dict) or "error" not in answer:
        return None
    error = answer["error"] or {}
    code = str(error.get("code", "error"))
    return {
        "code": code,
        "words": ERROR_WORDS.get(code, "The widget could not be answered."),
        "message": str(error.get("message", "")),
    }


def number(value: Any, unit: str | None = None) -> str:
    """A figure for people: thousands separated, the API's decimals; '—' for none."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    # The API rounds to 4 decimals: a CTR of 0.0016 must not read 0.00.
    whole = float(value).is_integer()
    text = f"{value:,.0f}" if whole else f"{value:,.4f}".rstrip("0").rstrip(".")
    return text + UNIT_SUFFIX.get(unit or "", "")


def delta(comparison: dict[str, Any] | None) -> dict[str, str] | None:
    """The comparison of a number: direction, arrow and words, or None without one."""
    if not comparison or comparison.get("values") is None:
        return None
    absolute = comparison.get("absoluteDifference")
    percent = comparison.get("difference")
    if not isinstance(absolute, int | float) or absolute == 0:
        direction, arrow, word = "flat", "→", "unchanged"
    elif absolute > 0:
        direction, arrow, word = "up", "▲", "up"
    else:
        direction, arrow, word = "down", "▼", "down"
    sign = "+" if isinstance(absolute, int | float) and absolute > 0 else ""
    parts = [f"{sign}{number(absolute)}"]
    if isinstance(percent, int | float):
        parts.append(f"({sign}{number(percent)} %)")
    return {
        "direction": direction,
        "arrow": arrow,
        "text": " ".join(parts),
        "words": f"{word} from {number(comparison.get('values'))}",
        "previous": number(comparison.get("values")),
    }


def chart_kind(chart_type: str | None, labels: list[Any], dimensions: list[str]) -> str:
    """The widget's chart_type when Chart.js draws it; otherwise a line over time and
    bars for categories."""
    if chart_type in CHART_TYPES:
        return chart_type
    if chart_type == "column":
        return "bar"
    return "line" if dimensions[:1] and dimensions[0] in {"date", "hour"} else "bar"


def chart_caption(kind: str, has_comparison: bool) -> str:
    if not has_comparison:
        return f"{kind.capitalize()} chart."
    how = {"line": "dashed", "pie": "the inner ring", "doughnut": "the inner ring"}
    return f"{kind.capitalize()} chart, the comparison period {how.get(kind, 'lighter')}."


def chart_data(answer: dict[str, Any], kind: str) -> str:
    """What playground.js hands to Chart.js, as JSON for a data block."""
    comparison = answer.get("comparison") or {}
    series = [
        {"label": s.get("label", ""), "data": s.get("data", []), "comparison": False}
        for s in answer.get("values", [])
    ]
    if comparison.get("values"):
        series += [
            {
                "label": f"{s.get('label', '')} (comparison)",
                "data": s.get("data", []),
                "comparison": True,
            }
            for s in comparison["values"]
        ]
    return json.dumps(
        {"kind": kind, "labels": answer.get("labels", []), "series": series},
        ensure_ascii=False,
    ).replace("</", "<\\/")


def chart_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart as table rows (label, then each series' value), for the data table."""
    values = answer.get("values", [])
    previous = (answer.get("comparison") or {}).get("values") or []
    rows = []
    for i, label in enumerate(answer.get("labels", [])):
        cells = [_at(s.get("data"), i) for s in values]
        cells += [_at(s.get("data"), i) for s in previous]
        rows.append({"label": label, "cells": cells})
    return rows


def chart_headers(answer: dict[str, Any]) -> list[str]:
    heads = [str(s.get("label", "")) for s in answer.get("values", [])]
    previous = (answer.get("comparison") or {}).get("values") or []
    heads += [f"{s.get('label', '')} (comparison)" for s in previous]
    return heads


def _at(data: Any, index: int) -> Any:
    return data[index] if isinstance(data, list) and index < len(data) else None


def split_total(rows: list[list[Any]], component: str) -> tuple[list[list[Any]], list[Any] | None]:
    """A table's body rows and its Total row (the last one, except in container_v1)."""
    if component != "container_v1" and rows and rows[-1][:1] == ["Total"]:
        return rows[:-1], rows[-1]
    return rows, None


def plan_words(plan: dict[str, Any] | None) -> list[str]:
    """The explain plan as sentences: what is stored, which calls would be made."""
    if not plan:
        return []
    lines = [
        f"The account's day is {plan.get('account_today')} "
        f"({(plan.get('integration') or {}).get('timezone', 'UTC')})."
    ]
    for held in plan.get("store", []):
        what = f"{held.get('dataset')}{variant_words(held.get('variant'))}"
        if "period" in held:
            start, end = held["period"]
            state = "stored" if held.get("stored") else "not stored yet"
            settled = ", settled" if held.get("settled") else ""
            lines.append(f"{what}: the figure for {start} to {end} is {state}{settled}.")
        else:
            lines.append(
                f"{what}: {held.get('days_stored')} of {held.get('days_needed')} days stored, "
                f"{held.get('days_settled')} of them settled."
            )
    calls = int(plan.get("upstream_calls") or 0)
    if calls == 0:
        lines.append("No upstream call is needed: everything is answered from the store.")
    else:
        estimated = int(plan.get("upstream_calls_estimated") or 0)
        more = f", {estimated} of them estimated" if estimated else ""
        lines.append(f"{calls} upstream call{'s' if calls != 1 else ''} would be made{more}:")
    for fetch in plan.get("fetches", []):
        reason = "missing" if fetch.get("reason") == "missing" else "out of date"
        count = len(fetch.get("calls", []))
        # A fetch answered by shared calls (GA4's batches) names its group instead.
        group = fetch.get("shared_calls")
        calls_words = (
            f"shared call group {group}"
            if isinstance(group, int)
            else f"{count} call{'s' if count != 1 else ''}"
        )
        lines.append(
            f"{fetch.get('dataset')}{variant_words(fetch.get('variant'))} "
            f"from {fetch.get('start')} to {fetch.get('end')} "
            f"({reason}): {calls_words}"
            + (", estimated from what is stored" if fetch.get("estimated") else "")
            + "."
        )
    for index, group in enumerate(plan.get("shared_calls") or []):
        count = len(group.get("calls", []))
        lines.append(
            f"Shared call group {index}: {count} call{'s' if count != 1 else ''} "
            f"answering {len(group.get('fetches', []))} fetches together."
        )
    for widget in (plan.get("widgets") or {}).values():
        error = error_of(widget)
        if error:
            lines.append(f"The widget cannot be planned: {error['message'] or error['words']}")
    return lines


def variant_words(variant: Any) -> str:
    """A stored variant key (engine.facts.variant_key) in words, after the dataset."""
    if variant in (None, "", "-"):
        return ""
    try:
        parts = json.loads(str(variant))
    except ValueError:
        return f" (variant {variant})"
    if not isinstance(parts, dict):
        return f" (variant {variant})"
    words = []
    if parts.get("b"):
        words.append("by " + ", ".join(map(str, parts["b"])))
    for field, operator, value in parts.get("f", []):
        words.append(f"{field} {str(operator).lower()} {value}")
    for key, value in parts.get("o", []):
        words.append(f"{key}={value}")
    return f" ({'; '.join(words)})" if words else ""


def plan_calls(plan: dict[str, Any] | None) -> list[str]:
    """Each planned upstream call as `METHOD path`."""
    if not plan:
        return []
    groups = [*plan.get("fetches", []), *(plan.get("shared_calls") or [])]
    return [
        f"{call.get('method')} {call.get('path')}" for g in groups for call in g.get("calls", [])
    ]


def metric_unit(plan: dict[str, Any] | None, widget_id: str) -> str | None:
    widget = ((plan or {}).get("widgets") or {}).get(widget_id) or {}
    metrics = widget.get("metrics") or []
    return str(metrics[0].get("unit")) if metrics and metrics[0].get("unit") else None
