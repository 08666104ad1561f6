"""Answers shaped by templates in an emulator's data.yaml, so that an object's wire form
(its keys, their order, the constant fields, nested links) is data and the code only
computes the values:

- a string that is exactly `$name` becomes the value `name` as it is (a number stays a
  number, a mapping or list is placed whole);
- any other string with `{...}` is formatted with the values (`"{total:.2f}"`,
  `"{site}/orders/{id}"`);
- mappings and lists are filled item by item, in their order; other scalars are kept.

A template is compiled once into a function of the values (kept while the template
lives): a listing fills the same template for each of its objects.

`fill_present` fills the same templates for answers that leave out what has no value
(Graph's objects): a name may read attributes (`{campaign.name}`, `$adset.genders`), a
string with a None value in it is None, `$name` of an empty tuple is None, and a mapping
drops its None items.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import reduce
from string import Formatter
from typing import Any

Filler = Callable[[Mapping[str, Any]], Any]
_compiled: dict[int, tuple[Any, Filler]] = {}


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    found = _compiled.get(id(template))
    if found is None or found[0] is not template:
        if len(_compiled) > 512:  # specs loaded again (a new sandbox each) leave old ones
            _compiled.clear()
        found = (template, _compile(template))
        _compiled[id(template)] = found
    return found[1](values)


def _compile(template: Any) -> Filler:
    if isinstance(template, dict):
        items = [(key, _compile(item)) for key, item in template.items()]
        return lambda values: {key: filler(values) for key, filler in items}
    if isinstance(template, list):
        fillers = [_compile(item) for item in template]
        return lambda values: [filler(values) for filler in fillers]
    if not isinstance(template, str) or ("{" not in template and not template.startswith("$")):
        return lambda values: template
    if template.startswith("$") and template[1:].isidentifier():
        name = template[1:]
        return lambda values: values[name]
    parsed = list(Formatter().parse(template)) if "{" in template else []
    if len(parsed) == 1 and parsed[0][0] == "":
        _, field, spec, conversion = parsed[0]
        if field and field.isidentifier() and conversion is None and "{" not in (spec or ""):
            return lambda values: format(values[field], spec or "")
    return lambda values: template.format_map(values) if "{" in template else template


def fill_present(template: Any, values: Mapping[str, Any]) -> Any:
    """The template filled, leaving out what has no value (see the module's docstring)."""
    if isinstance(template, dict):
        filled = {key: fill_present(item, values) for key, item in template.items()}
        return {key: value for key, value in filled.items() if value is not None}
    if isinstance(template, list):
        return [fill_present(item, values) for item in template]
    if not isinstance(template, str):
        return template
    if template.startswith("$"):
        value = _lookup(values, template[1:])
        return (list(value) or None) if isinstance(value, tuple) else value
    names = re.findall(r"\{([\w.]+)\}", template)
    if any(_lookup(values, name) is None for name in names):
        return None
    return template.format_map(values)


def _lookup(values: Mapping[str, Any], name: str) -> Any:
    root, *attributes = name.split(".")
    return reduce(getattr, attributes, values[root])
