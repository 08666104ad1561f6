"""Discovery: every network folder of the build, and networks shipped as packages of
their own through the entry-point group."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from metrics_connect.connectors.base import Connector
from metrics_connect.networks import registry
from metrics_connect.networks.registry import NetworkError, days_timezone, network, networks
from metrics_connect.sandbox.registry import SandboxNetwork

PLUGIN_YAML = """
name: Acme Ads
family: json_rest
group: ads
connect:
  provider: google
  scopes: [acme.read]
  accounts: accounts:list_accounts
days:
  timezone: America/Los_Angeles
base_url_setting: acme_ads_api_base_url
settings:
  - {name: acme_ads_api_base_url, default: "https://api.acme.test", description: Acme host}
connector: connector:AcmeConnector
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A network package outside this distribution, announced by an entry point."""
    package = tmp_path / "acme_metrics"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "network.yaml").write_text(PLUGIN_YAML)
    monkeypatch.syspath_prepend(str(tmp_path))
    found = [EntryPoint("acme_ads", "acme_metrics", registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: found)
    registry.networks.cache_clear()
    yield "acme_ads"
    registry.networks.cache_clear()
    sys.modules.pop("acme_metrics", None)


@pytest.mark.parametrize("slug", sorted(networks()))
def test_each_built_in_network_names_code_that_loads(slug: str) -> None:
    net = network(slug)
    assert net is not None
    assert issubclass(net.connector_class(), Connector)
    assert net.connector_class().slug == slug
    form = net.spec.connect.form
    # A network connected by a form checks its fields instead of listing OAuth accounts.
    assert callable(net.load(form.check if form is not None else net.spec.connect.accounts))
    if net.spec.emulator:
        assert isinstance(net.load(net.spec.emulator)(), SandboxNetwork)
    assert net.spec.base_url_setting in {s.name for s in net.spec.settings}
    assert net.catalog_text().strip()


def test_a_network_from_another_package_is_discovered(plugin: str) -> None:
    found = network(plugin)
    assert found is not None and found.package == "acme_metrics"
    assert found.name == "Acme Ads"
    assert "instagram_business" in networks()  # the built-in ones are still there
    assert ("acme_ads_api_base_url", "https://api.acme.test", "Acme host") in (
        registry.settings_specs()
    )


def test_days_follow_the_network_or_the_account(plugin: str) -> None:
    assert days_timezone(plugin, "America/Sao_Paulo") == "America/Los_Angeles"
    assert days_timezone("facebook_ads", "America/Sao_Paulo") == "America/Sao_Paulo"
    # Instagram's insights days are Pacific days for every account.
    assert days_timezone("instagram_business", "America/Sao_Paulo") == "America/Los_Angeles"


def test_a_network_yaml_with_an_unknown_key_is_refused(plugin: str, tmp_path: Path) -> None:
    spec = tmp_path / "acme_metrics" / "network.yaml"
    spec.write_text(PLUGIN_YAML + "colour: blue\n")
    registry.networks.cache_clear()
    with pytest.raises(NetworkError, match="colour"):
        networks()
