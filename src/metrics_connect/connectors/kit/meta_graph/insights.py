"""Reading Graph answers the same way for every Meta network: timestamps, the day of
a time-series point, insights values (total_value, values[], breakdowns), sums over
several calls' periods, and what a refusal of insights metrics leaves to ask."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect.connectors.base import NOTE_APPROXIMATE, Scalar

# Graph's answer to a metric it no longer serves: "(#100) metric[1] must be one of the
# following values: reach, views, ..." (the generic list, not the metric's name).
GENERIC_REFUSAL = re.compile(r"metric\[\d+\] must be one of the following values: ([a-z_, ]+)")


def parse_graph_time(value: str) -> datetime:
    """Graph timestamps: ISO 8601 with a +0000 offset ("2024-01-02T08:00:00+0000")."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day_ending_at(end_time: str, tz: ZoneInfo) -> date:
    """The local day whose value a time-series point with this `end_time` carries."""
    return (parse_graph_time(end_time) - timedelta(seconds=1)).astimezone(tz).date()


def local_day(timestamp: str, tz: ZoneInfo) -> date:
    return parse_graph_time(timestamp).astimezone(tz).date()


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def add(a: Scalar, b: Scalar) -> Scalar:
    if is_number(a) and is_number(b):
        return a + b  # type: ignore[operator]
    return b if a is None else a


def single_value(entry: dict[str, Any]) -> Scalar:
    """A metric's value: `total_value.value`, or the last of `values[].value`."""
    total = entry.get("total_value")
    if isinstance(total, dict) and is_number(total.get("value")):
        value: Scalar = total["value"]
        return value
    points = entry.get("values")
    if isinstance(points, list) and points:
        last = points[-1]
        if isinstance(last, dict) and is_number(last.get("value")):
            value = last["value"]
            return value
    return None


def values_of(answer: dict[str, Any]) -> dict[str, Scalar]:
    """{metric: value} of an insights answer."""
    values: dict[str, Scalar] = {}
    for entry in answer.get("data") or []:
        if isinstance(entry, dict):
            value = single_value(entry)
            if value is not None:
                values[str(entry.get("name"))] = value
    return values


def breakdown_results(total: dict[str, Any]) -> list[tuple[tuple[tuple[str, str], ...], Scalar]]:
    """(keys, value) pairs of a total_value's breakdowns."""
    out: list[tuple[tuple[tuple[str, str], ...], Scalar]] = []
    for breakdown in total.get("breakdowns") or []:
        keys = [str(k) for k in breakdown.get("dimension_keys") or []]
        for result in breakdown.get("results") or []:
            dims = [str(v) for v in result.get("dimension_values") or []]
            value = result.get("value")
            if len(dims) == len(keys) and is_number(value):
                out.append((tuple(zip(keys, dims, strict=True)), value))
    return out


def series(
    entries: list[dict[str, Any]], first: date, last: date, tz: ZoneInfo
) -> dict[date, dict[str, Any]]:
    """{day: {metric: value}} of time-series points (period=day) within first..last."""
    out: dict[date, dict[str, Any]] = {}
    for entry in entries:
        name = str(entry.get("name"))
        for point in entry.get("values") or []:
            if not isinstance(point, dict) or "end_time" not in point:
                continue
            day = day_ending_at(str(point["end_time"]), tz)
            if first <= day <= last and point.get("value") is not None:
                out.setdefault(day, {})[name] = point["value"]
    return out


def daily_values(answers: list[Any], tz: ZoneInfo) -> dict[date, dict[str, Scalar]]:
    """{day: {metric: value}} of insights answers: time series (period=day) over each
    call's window, and batches of one-day total_value reads (one operation per day)."""
    out: dict[date, dict[str, Scalar]] = {}
    for answer in answers:
        if answer.call.window is not None and not answer.call.operations:
            first, last = answer.call.window
            for day, point in series(answer.records, first, last, tz).items():
                numbers = {k: v for k, v in point.items() if is_number(v)}
                if numbers:
                    out.setdefault(day, {}).update(numbers)
        for op, body in zip(answer.call.operations, answer.operations, strict=True):
            if isinstance(body, Exception):
                raise body
            for entry in body.get("data") or []:
                value = single_value(entry)
                if value is not None and op.window:
                    out.setdefault(op.window[0], {})[str(entry.get("name"))] = value
    return out


def period_totals(
    answers: list[Any], breakdowns: tuple[str, ...]
) -> dict[tuple[tuple[str, str], ...], dict[str, Scalar]]:
    """{breakdown keys: {metric: value}} of total_value answers, summed over the calls'
    windows (a period longer than the network's largest window)."""
    totals: dict[tuple[tuple[str, str], ...], dict[str, Scalar]] = {}
    for answer in answers:
        for entry in answer.records:
            name = str(entry.get("name"))
            if breakdowns:
                pairs = breakdown_results(entry.get("total_value") or {})
            else:
                value = single_value(entry)
                pairs = [((), value)] if value is not None else []
            for key, value in pairs:
                totals.setdefault(key, {})[name] = add(totals.get(key, {}).get(name), value)
    return totals


def summed_uniques(answers: list[Any], unique: Collection[str] | None = None) -> set[str]:
    """The note "approximate" when unique counts (the metrics `unique` names; None: every
    metric) were summed over several calls' periods (longer than the API's largest): an
    upper bound, never passed off as exact."""
    windows = {a.call.window for a in answers}
    asked = {str(e.get("name")) for a in answers for e in a.records}
    summed = unique is None or bool(asked & set(unique))
    return {NOTE_APPROXIMATE} if len(windows) > 1 and summed else set()


def without_named(metrics: tuple[str, ...], message: str) -> tuple[str, ...]:
    """The metrics an upstream "unsupported metric" message leaves: those of Graph's
    generic list of the values it serves, or else those the message does not name."""
    generic = GENERIC_REFUSAL.search(message.lower())
    if generic is not None:
        served = {m.strip() for m in generic.group(1).split(",")}
        return tuple(m for m in metrics if m in served)
    named = set(re.findall(r"[a-z_]+", message.lower()))
    return tuple(m for m in metrics if m not in named)
