"""The Data API's JSON request messages, read as Google's REST front end reads them.

What the official clients send over REST (`google-analytics-data` with
transport="rest") is proto JSON: field names in lowerCamelCase or their proto
snake_case, enums as names or, with `$alt=json;enum-encoding=int`, as numbers. An
unknown field or enum value is refused with INVALID_ARGUMENT and Google's wording, a
`google.rpc.BadRequest` in the error's details. `read` returns the message with
lowerCamelCase names and enum names, which the report code reads.
"""

from __future__ import annotations

import re
from typing import Any

from metrics_connect.sandbox.kit.google import GoogleError
from metrics_connect.sandbox.kit.spec import load_spec

# Per message: JSON name -> type (a message, "enum:<Enum>", or a scalar), "[]" = repeated.
MESSAGES: dict[str, dict[str, str]] = load_spec(
    __package__, "data.yaml", "messages", dict[str, dict[str, str]]
)
# Enum values by number, per enum's proto name.
ENUMS: dict[str, dict[int, str]] = load_spec(
    __package__, "data.yaml", "enums", dict[str, dict[int, str]]
)
ENUM_PACKAGE = "type.googleapis.com/google.analytics.data.v1beta"
# Enum fields of the answers, by JSON name: their enum.
_ANSWER_ENUMS = {"type": "MetricType", "compatibility": "Compatibility"}


class InvalidPayload(GoogleError):
    """An unknown field or enum value: Google's message, with a BadRequest in details."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field

    def body(self) -> dict[str, Any]:
        body = super().body()
        violation = {"description": self.message}
        if self.field:
            violation = {"field": self.field, **violation}
        body["error"]["details"] = [
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}
        ]
        return body


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def read(body: Any, message: str) -> dict[str, Any]:
    """The request as lowerCamelCase JSON with enum names, or InvalidPayload."""
    if not isinstance(body, dict):
        raise InvalidPayload(
            f'Invalid JSON payload received. Expected an object for "{message}".', None
        )
    return _message(body, message, "")


def _message(value: dict[str, Any], message: str, path: str) -> dict[str, Any]:
    fields = MESSAGES[message]
    out: dict[str, Any] = {}
    for raw_name, raw in value.items():
        name = _camel(raw_name)
        kind = fields.get(name)
        if kind is None:
            where = f" at '{path}'" if path else ""
            raise InvalidPayload(
                f'Invalid JSON payload received. Unknown name "{raw_name}"{where}: '
                "Cannot find field.",
                path or None,
            )
        here = f"{path}.{_snake(name)}" if path else _snake(name)
        out[name] = _value(raw, kind, here)
    return out


def _value(raw: Any, kind: str, path: str) -> Any:
    if kind.endswith("[]"):
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise InvalidPayload(f"Invalid value at '{path}', expected a list.", path)
        return [_value(item, kind[:-2], f"{path}[{i}]") for i, item in enumerate(raw)]
    if kind.startswith("enum:"):
        return _enum(raw, kind[5:], path)
    if kind in MESSAGES:
        if not isinstance(raw, dict):
            raise InvalidPayload(
                f"Invalid JSON payload received. Expected an object at '{path}'.", path
            )
        return _message(raw, kind, path)
    return raw


def _enum(raw: Any, enum: str, path: str) -> str:
    values = ENUMS[enum]
    if isinstance(raw, bool):
        raw = str(raw).lower()
    if isinstance(raw, int) and raw in values:
        return values[raw]
    if isinstance(raw, str) and raw in values.values():
        return raw
    owner = f"{ENUM_PACKAGE}.{enum}"
    shown = f'"{raw}"' if isinstance(raw, str) else str(raw)
    raise InvalidPayload(f"Invalid value at '{path}' ({owner}), {shown}", path)


def wants_int_enums(alt: str | None) -> bool:
    """`$alt=json;enum-encoding=int`: the client reads (and sends) enums as numbers."""
    return alt is not None and "enum-encoding=int" in alt.replace(" ", "").split(";")


def int_enums(value: Any) -> Any:
    """An answer with its enum names as numbers (`enum-encoding=int`)."""
    if isinstance(value, list):
        return [int_enums(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {
        k: _enum_number(_ANSWER_ENUMS[k], v)
        if k in _ANSWER_ENUMS and isinstance(v, str)
        else int_enums(v)
        for k, v in value.items()
    }


def _enum_number(enum: str, name: str) -> int:
    return next((n for n, value in ENUMS[enum].items() if value == name), 0)
