"""Messages in the proto3 JSON mapping, as Google's REST APIs write them: a dotted
snake_case field path (`metrics.cost_micros`) names a nested camelCase member
(`{"metrics": {"costMicros": ...}}`), an unset field is left out, and a field mask
lists the paths in camelCase, comma-separated."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def camel(word: str) -> str:
    # Only the letter after an underscore changes case (a misspelt name stays unknown).
    head, *rest = word.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def put(message: dict[str, Any], path: str, value: Any) -> None:
    """Set the field at `path`, making the messages on the way (None: left unset)."""
    if value is None:
        return
    *parents, leaf = [camel(p) for p in path.split(".")]
    for part in parents:
        message = message.setdefault(part, {})
    message[leaf] = value


def get(message: dict[str, Any], path: str) -> Any:
    """The field at `path` (None when it or a message on the way is unset)."""
    node: Any = message
    for part in path.split("."):
        node = node.get(camel(part)) if isinstance(node, dict) else None
    return node


def field_mask(paths: Iterable[str]) -> str:
    return ",".join(".".join(camel(p) for p in path.split(".")) for path in paths)
