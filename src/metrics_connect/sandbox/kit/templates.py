"""Answers shaped by templates in an emulator's data.yaml, so that an object's wire form
(its keys, their order, the constant fields, nested links) is data and the code only
computes the values:

- a string that is exactly `$name` becomes the value `name` as it is (a number stays a
  number, a mapping or list is placed whole);
- any other string with `{...}` is formatted with the values (`"{total:.2f}"`,
  `"{site}/orders/{id}"`);
- mappings and lists are filled item by item, in their order; other scalars are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        if template.startswith("$") and template[1:].isidentifier():
            return values[template[1:]]
        return template.format_map(values) if "{" in template else template
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    return template
