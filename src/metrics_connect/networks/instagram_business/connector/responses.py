"""Reading Graph insights answers: single values, breakdowns, numbers only."""

from __future__ import annotations

from typing import Any

from metrics_connect.connectors.base import Scalar


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
