"""Answers written as templates in an emulator's data.yaml and filled from its values:
a resource's fields as the network serves them, so that code computes the values only.

In a template, a string `$name` is the value itself (any type; `name.attr` or
`name.key` reach inside it) and any other string is a `str.format_map` text over the
values (`{name}`, `{name.attr}`, `{name[key]}`); mappings and lists are filled member by
member in their order; every other value is served as written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _lookup(values: Mapping[str, Any], path: str) -> Any:
    root, *names = path.split(".")
    found = values[root]
    for name in names:
        found = found[name] if isinstance(found, Mapping) else getattr(found, name)
    return found


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, Mapping):
        return {key: fill(member, values) for key, member in template.items()}
    if isinstance(template, list):
        return [fill(member, values) for member in template]
    if not isinstance(template, str):
        return template
    if template.startswith("$"):
        return _lookup(values, template[1:])
    return template.format_map(values)
