"""Graph's error envelope and usage headers, read one way for every Meta network.

{"error": {"message", "type", "code", "error_subcode", "is_transient", "error_user_msg"}}
(Graph API "Handling Errors"). `X-Business-Use-Case-Usage`, `X-App-Usage` and
`X-Ad-Account-Usage` carry the usage percentages and `estimated_time_to_regain_access`
(minutes). What each code means is the network's error map (streams.yaml).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from metrics_connect.connectors.kit.errors import ErrorMap, Failure
from metrics_connect.connectors.kit.spec import Streams


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def parse_failure(
    status: int, body: Any, message_fields: tuple[str, ...] = ("message",)
) -> Failure:
    """The `error` object of a Graph response body (a dict, or its JSON text)."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return Failure(status=status, message=f"HTTP {status}")
    message = next((str(error[f]) for f in message_fields if error.get(f)), f"HTTP {status}")
    return Failure(
        status=status,
        code=_integer(error.get("code")),
        subcode=_integer(error.get("error_subcode")),
        message=message,
        transient=bool(error.get("is_transient")),
    )


def is_error_body(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


def _usage_entries(raw: str | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        usage = json.loads(raw)
    except ValueError:
        return []
    # X-App-Usage is one object; X-Business-Use-Case-Usage maps a business id to a list.
    if isinstance(usage, dict) and any(isinstance(v, list) for v in usage.values()):
        return [e for v in usage.values() if isinstance(v, list) for e in v if isinstance(e, dict)]
    return [usage] if isinstance(usage, dict) else []


def regain_access_seconds(headers: Mapping[str, str], names: tuple[str, ...]) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in the usage headers."""
    minutes = [
        float(entry["estimated_time_to_regain_access"])
        for name in names
        for entry in _usage_entries(headers.get(name))
        if isinstance(entry.get("estimated_time_to_regain_access"), int | float)
        and entry["estimated_time_to_regain_access"] > 0
    ]
    return max(minutes) * 60.0 if minutes else None


def max_usage_percent(headers: Mapping[str, str], names: tuple[str, ...]) -> float | None:
    """The highest of call_count / total_cputime / total_time over the usage headers."""
    values = [
        float(entry[key])
        for name in names
        for entry in _usage_entries(headers.get(name))
        for key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct")
        if isinstance(entry.get(key), int | float)
    ]
    return max(values) if values else None


def error_map(streams: Streams) -> ErrorMap:
    """A Meta network's error map, its rate limits timed by the usage headers."""
    names = streams.errors.envelope.usage_headers
    return ErrorMap(
        streams.errors, {"usage_headers": lambda _, headers: regain_access_seconds(headers, names)}
    )
