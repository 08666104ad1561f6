"""How aggregation reads a stored value as a number (shared by the store's row selection)."""

from __future__ import annotations

from typing import Any


def number(value: Any) -> float | int | None:
    """The value as a number: bools as 0/1, numeric strings parsed, else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return None
    return None
