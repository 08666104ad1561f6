"""The networks this build serves, found by discovery: every folder of this package
holding a `network.yaml`, and every package named in the entry-point group
`metrics_connect.networks` (a network shipped as a separate distribution).

Nothing outside a network's folder names it: the service asks this registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from metrics_connect.logging_setup import get_logger
from metrics_connect.networks.spec import NetworkSpec

ENTRY_POINT_GROUP = "metrics_connect.networks"
SPEC_FILE = "network.yaml"
CATALOG_FILE = "catalog.yaml"

log = get_logger("metrics_connect.networks")


class NetworkError(ValueError):
    """A network folder that does not fit the format."""


@dataclass(frozen=True)
class Network:
    slug: str
    package: str
    spec: NetworkSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def folder(self) -> Traversable:
        return files(self.package)

    def load(self, target: str) -> Any:
        """The object a `module:attribute` target of network.yaml names."""
        module_name, _, attribute = target.partition(":")
        return getattr(import_module(f"{self.package}.{module_name}"), attribute)

    def catalog_text(self) -> str:
        return self.folder.joinpath(CATALOG_FILE).read_text(encoding="utf-8")

    def connector_class(self) -> Any:
        return self.load(self.spec.connector)


def _read(slug: str, package: str) -> Network:
    text = files(package).joinpath(SPEC_FILE).read_text(encoding="utf-8")
    try:
        spec = NetworkSpec.model_validate(yaml.safe_load(text))
    except ValueError as exc:
        raise NetworkError(f"{package}/{SPEC_FILE}: {exc}") from exc
    return Network(slug=slug, package=package, spec=spec)


def _builtin() -> dict[str, str]:
    root = files(__package__ or "metrics_connect.networks")
    found = {}
    for child in root.iterdir():
        if child.is_dir() and child.joinpath(SPEC_FILE).is_file():
            found[child.name] = f"metrics_connect.networks.{child.name}"
    return found


@cache
def networks() -> dict[str, Network]:
    """Every network of this build by slug, sorted by slug."""
    packages = _builtin()
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in packages and packages[entry.name] != entry.value:
            log.warning("network_shadowed", slug=entry.name, package=entry.value)
            continue
        packages[entry.name] = entry.value
    return {slug: _read(slug, packages[slug]) for slug in sorted(packages)}


def network(slug: str) -> Network | None:
    return networks().get(slug)


def days_timezone(slug: str, account_timezone: str) -> str:
    """The time zone the network's days are in: the account's own, unless the network's
    network.yaml fixes one (days end at Pacific midnight, say)."""
    found = network(slug)
    zone = found.spec.days.timezone if found is not None else "account"
    return account_timezone if zone == "account" else zone


def settings_specs() -> list[tuple[str, str, str]]:
    """(name, default, description) of every setting the networks add."""
    seen: dict[str, tuple[str, str, str]] = {}
    for net in networks().values():
        for setting in net.spec.settings:
            seen.setdefault(setting.name, (setting.name, setting.default, setting.description))
    return list(seen.values())
