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

from metrics_connect import safe_yaml
from metrics_connect.logging_setup import get_logger
from metrics_connect.networks.spec import NetworkSpec, ProvidersFile, ProviderSpec

ENTRY_POINT_GROUP = "metrics_connect.networks"
SPEC_FILE = "network.yaml"
CATALOG_FILE = "catalog.yaml"
PROVIDERS_FILE = "providers.yaml"
# Family kits, each may hold a providers.yaml of providers its networks share.
FAMILY_KITS = "metrics_connect.connectors.kit"
# Settings derived per provider: <name>_<suffix>.
PROVIDER_SETTINGS = (
    "client_id",
    "client_secret",
    "authorize_url",
    "token_url",
    "request_token_url",
    "api_base_url",
    "pkce",
)

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
        return load_target(self.package, target)

    def catalog_text(self) -> str:
        return self.folder.joinpath(CATALOG_FILE).read_text(encoding="utf-8")

    def connector_class(self) -> Any:
        return self.load(self.spec.connector)


def load_target(package: str, target: str) -> Any:
    """`module:attribute`, the module relative to `package` unless it is absolute
    (starts with "metrics_connect.")."""
    module_name, _, attribute = target.partition(":")
    if not module_name.startswith("metrics_connect."):
        module_name = f"{package}.{module_name}"
    return getattr(import_module(module_name), attribute)


@dataclass(frozen=True)
class Provider:
    """An OAuth provider as declared, and the package its targets are relative to."""

    spec: ProviderSpec
    package: str
    declared_in: str

    @property
    def name(self) -> str:
        return self.spec.name

    def load(self, target: str) -> Any:
        return load_target(self.package, target)


def _family_providers() -> list[Provider]:
    found = []
    for child in sorted(files(FAMILY_KITS).iterdir(), key=lambda c: c.name):
        path = child.joinpath(PROVIDERS_FILE) if child.is_dir() else None
        if path is None or not path.is_file():
            continue
        package = f"{FAMILY_KITS}.{child.name}"
        try:
            data = ProvidersFile.model_validate(safe_yaml.load(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise NetworkError(f"{package}/{PROVIDERS_FILE}: {exc}") from exc
        found += [Provider(spec, package, f"{package}/{PROVIDERS_FILE}") for spec in data.providers]
    return found


@cache
def providers() -> dict[str, Provider]:
    """Every OAuth provider declared (family kits, then networks), by name.

    NetworkError when one name is declared twice, a provider bears a network's slug,
    or a network names a provider nobody declares."""
    nets = networks()
    declared = _family_providers() + [
        Provider(spec, net.package, f"{net.package}/{SPEC_FILE}")
        for net in nets.values()
        for spec in net.spec.providers
    ]
    out: dict[str, Provider] = {}
    for provider in declared:
        if provider.name in out:
            raise NetworkError(
                f"OAuth provider {provider.name!r} is declared twice: in "
                f"{out[provider.name].declared_in} and in {provider.declared_in}"
            )
        if provider.name in nets:
            raise NetworkError(
                f"OAuth provider {provider.name!r} ({provider.declared_in}) bears a network's "
                f"slug: name it {provider.name}_login, say"
            )
        out[provider.name] = provider
    for net in nets.values():
        if net.spec.connect.provider is not None and net.spec.connect.provider not in out:
            raise NetworkError(
                f"{net.package}/{SPEC_FILE}: connect.provider {net.spec.connect.provider!r} "
                f"is declared nowhere (known: {', '.join(sorted(out)) or 'none'})"
            )
    return dict(sorted(out.items()))


def oauth_provider(name: str) -> Provider | None:
    return providers().get(name)


def provider_settings() -> list[tuple[str, str | None, tuple[str, ...]]]:
    """(setting name, default, older names still read) of every provider's settings."""
    out: list[tuple[str, str | None, tuple[str, ...]]] = []
    for provider in providers().values():
        spec = provider.spec
        defaults: dict[str, str | None] = {
            "client_id": None,
            "client_secret": None,
            "authorize_url": spec.authorize_url,
            "token_url": spec.token_url,
            "request_token_url": spec.request_token_url,
            "api_base_url": spec.api_base_url,
            "pkce": "true" if spec.pkce else "false",
        }
        for suffix in PROVIDER_SETTINGS:
            alias = spec.setting_aliases.get(suffix)
            out.append((f"{spec.name}_{suffix}", defaults[suffix], (alias,) if alias else ()))
    return out


def _read(slug: str, package: str) -> Network:
    text = files(package).joinpath(SPEC_FILE).read_text(encoding="utf-8")
    try:
        spec = NetworkSpec.model_validate(safe_yaml.load(text))
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
