"""Query or body parameters read as networks read them, a bad value refused with the
network's own error (`refuse(value)`): an optional instant (ISO 8601 or epoch
milliseconds), an optional integer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from metrics_connect.engine.records import parse_instant

Refuse = Callable[[Any], Exception]


def instant_param(value: Any, refuse: Refuse) -> datetime | None:
    if value in (None, ""):
        return None
    at = parse_instant(value)
    if at is None:
        raise refuse(value)
    return at


def int_param(value: Any, default: int, refuse: Refuse) -> int:
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise refuse(value) from None
