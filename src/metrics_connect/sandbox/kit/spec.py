"""A network emulator's data spec: YAML beside its code (entities, metric definitions,
distribution tables), validated by pydantic into the emulator's own types."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from metrics_connect import safe_yaml


class SpecModel(BaseModel):
    """A part of a data spec: unknown keys refused (a typo is an error), values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@cache
def _read(package: str, name: str) -> Any:
    return safe_yaml.load(resources.files(package).joinpath(name).read_text(encoding="utf-8"))


def load_spec(package: str, name: str, key: str, shape: Any) -> Any:
    """`key` of the package's YAML file `name`, validated as `shape` (a type: a dataclass,
    dict[str, Dataclass], tuple[...]); a ValidationError names the bad entry."""
    return TypeAdapter(shape).validate_python(_read(package, name)[key])


def load_named(package: str, name: str, key: str, shape: type[Any]) -> dict[str, Any]:
    """A mapping of entries by name (`key` of the YAML file `name`), each validated as
    `shape` with its name as the `name` field; the file's order is kept."""
    adapter: TypeAdapter[Any] = TypeAdapter(shape)
    entries = _read(package, name)[key]
    return {
        n: adapter.validate_python({"name": n, **(fields or {})}) for n, fields in entries.items()
    }


def load_document(package: str, name: str, shape: Any) -> Any:
    """The package's whole YAML file `name`, validated as `shape`."""
    return TypeAdapter(shape).validate_python(_read(package, name))
