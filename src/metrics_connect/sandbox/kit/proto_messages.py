"""Request messages as a Google REST front end reads proto JSON, from a table of the
API's messages and enums (data, usually the emulator's data.yaml).

A client may send field names in lowerCamelCase or their proto snake_case, and enums as
names or numbers; with `$alt=json;enum-encoding=int` (what the official clients send
over REST) it reads the answer's enums as numbers too. An unknown field or enum value is
refused with INVALID_ARGUMENT in Google's words and a `google.rpc.BadRequest` in the
error's details. `ProtoMessages.read` returns the message with lowerCamelCase names and
enum names, which an emulator's own code reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from metrics_connect.sandbox.kit.google import GoogleError
from metrics_connect.sandbox.kit.proto_json import camel


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


def wants_int_enums(alt: str | None) -> bool:
    """`$alt=json;enum-encoding=int`: the client reads (and sends) enums as numbers."""
    return alt is not None and "enum-encoding=int" in alt.replace(" ", "").split(";")


@dataclass(frozen=True)
class ProtoMessages:
    """An API's request messages and enums.

    `messages`: per message, its fields' JSON names -> type (a message, `enum:<Enum>` or
    a scalar; a trailing `[]` marks a repeated field). `enums`: per enum's proto name,
    number -> value name. `package`: the proto package its error texts name.
    `answer_enums`: the answers' enum fields by JSON name -> their enum."""

    package: str
    messages: dict[str, dict[str, str]]
    enums: dict[str, dict[int, str]]
    answer_enums: dict[str, str]

    def read_body(self, raw: bytes, message: str) -> dict[str, Any]:
        """A request's JSON body (none: an empty message) read as `message`."""
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise GoogleError("Invalid JSON payload received.") from None
        return self.read(body, message)

    def read(self, body: Any, message: str) -> dict[str, Any]:
        """The request as lowerCamelCase JSON with enum names, or InvalidPayload."""
        if not isinstance(body, dict):
            raise InvalidPayload(
                f'Invalid JSON payload received. Expected an object for "{message}".', None
            )
        return self._message(body, message, "")

    def _message(self, value: dict[str, Any], message: str, path: str) -> dict[str, Any]:
        fields = self.messages[message]
        out: dict[str, Any] = {}
        for raw_name, raw in value.items():
            name = camel(raw_name)
            kind = fields.get(name)
            if kind is None:
                where = f" at '{path}'" if path else ""
                raise InvalidPayload(
                    f'Invalid JSON payload received. Unknown name "{raw_name}"{where}: '
                    "Cannot find field.",
                    path or None,
                )
            here = f"{path}.{_snake(name)}" if path else _snake(name)
            out[name] = self._value(raw, kind, here)
        return out

    def _value(self, raw: Any, kind: str, path: str) -> Any:
        if kind.endswith("[]"):
            if raw is None:
                return []
            if not isinstance(raw, list):
                raise InvalidPayload(f"Invalid value at '{path}', expected a list.", path)
            return [self._value(item, kind[:-2], f"{path}[{i}]") for i, item in enumerate(raw)]
        if kind.startswith("enum:"):
            return self._enum(raw, kind[5:], path)
        if kind in self.messages:
            if not isinstance(raw, dict):
                raise InvalidPayload(
                    f"Invalid JSON payload received. Expected an object at '{path}'.", path
                )
            return self._message(raw, kind, path)
        return raw

    def _enum(self, raw: Any, enum: str, path: str) -> str:
        values = self.enums[enum]
        if isinstance(raw, bool):
            raw = str(raw).lower()
        if isinstance(raw, int) and raw in values:
            return values[raw]
        if isinstance(raw, str) and raw in values.values():
            return raw
        owner = f"type.googleapis.com/{self.package}.{enum}"
        shown = f'"{raw}"' if isinstance(raw, str) else str(raw)
        raise InvalidPayload(f"Invalid value at '{path}' ({owner}), {shown}", path)

    def answer(self, body: dict[str, Any], alt: str | None) -> dict[str, Any]:
        """An answer as the client asked for it by `$alt` (enums as numbers or names)."""
        return self.int_enums(body) if wants_int_enums(alt) else body

    def int_enums(self, value: Any) -> Any:
        """An answer with its enum names as numbers (`enum-encoding=int`)."""
        if isinstance(value, list):
            return [self.int_enums(v) for v in value]
        if not isinstance(value, dict):
            return value
        return {
            k: self._enum_number(self.answer_enums[k], v)
            if k in self.answer_enums and isinstance(v, str)
            else self.int_enums(v)
            for k, v in value.items()
        }

    def _enum_number(self, enum: str, name: str) -> int:
        return next((n for n, value in self.enums[enum].items() if value == name), 0)
