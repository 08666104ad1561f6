"""OAuth providers are data: declared once (a family kit's providers.yaml or a network's
network.yaml), never under a network's slug, and named by networks that exist."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from metrics_connect.connect.providers import provider
from metrics_connect.networks import registry
from metrics_connect.networks.registry import NetworkError, networks, providers
from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.settings import Settings

NETWORK = """
name: {name}
family: json_rest
group: ads
connect:
  provider: {provider}
  scopes: [read]
  accounts: accounts:list_accounts
{providers}
base_url_setting: {slug}_api_base_url
settings:
  - {{name: {slug}_api_base_url, default: "https://api.example.test", description: host}}
connector: connector:Connector
"""

PROVIDER = """providers:
  - name: {name}
    label: Example
    authorize_url: https://example.test/authorize
    token_url: https://example.test/token
    api_base_url: https://api.example.test
"""


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Announce throw-away network packages: plugins(slug=(provider, declared or None))."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[str] = []

    def announce(**specs: tuple[str, str | None]) -> None:
        found = []
        for slug, (named, declares) in specs.items():
            package = tmp_path / f"{slug}_pkg"
            package.mkdir()
            (package / "__init__.py").write_text("")
            declared = PROVIDER.format(name=declares) if declares else ""
            (package / "network.yaml").write_text(
                NETWORK.format(name=slug, provider=named, providers=declared, slug=slug)
            )
            found.append(EntryPoint(slug, f"{slug}_pkg", registry.ENTRY_POINT_GROUP))
            made.append(f"{slug}_pkg")
        monkeypatch.setattr(registry, "entry_points", lambda group: found)
        registry.networks.cache_clear()
        registry.providers.cache_clear()

    yield announce
    registry.networks.cache_clear()
    registry.providers.cache_clear()
    for name in made:
        sys.modules.pop(name, None)


def test_family_kits_declare_facebook_login_and_google() -> None:
    found = providers()
    assert found["facebook_login"].spec.label == "Facebook"
    assert found["facebook_login"].package == "metrics_connect.connectors.kit.meta_graph"
    assert found["google"].spec.authorize_params["access_type"] == "offline"
    for net in networks().values():
        # Networks connected by a form (an API key, a store URL) name no provider.
        assert net.spec.connect.provider in found or net.spec.connect.form is not None


def test_no_provider_bears_a_network_slug() -> None:
    assert not set(providers()) & set(networks())


def test_a_network_may_bring_its_own_provider(plugins: Callable[..., None]) -> None:
    plugins(acme_ads=("acme_login", "acme_login"), acme_crm=("acme_login", None))
    assert providers()["acme_login"].package == "acme_ads_pkg"
    assert "facebook_login" in providers()  # the family kits' are still there


def test_a_provider_declared_twice_is_a_discovery_error(plugins: Callable[..., None]) -> None:
    plugins(acme_ads=("acme_login", "acme_login"), acme_crm=("acme_login", "acme_login"))
    with pytest.raises(NetworkError, match="'acme_login' is declared twice"):
        providers()


def test_a_family_provider_declared_again_is_a_discovery_error(
    plugins: Callable[..., None],
) -> None:
    plugins(acme_ads=("google", "google"))
    with pytest.raises(NetworkError, match="'google' is declared twice"):
        providers()


def test_a_provider_named_like_a_network_is_a_discovery_error(
    plugins: Callable[..., None],
) -> None:
    plugins(acme_ads=("acme_ads", "acme_ads"))
    with pytest.raises(NetworkError, match="bears a network's slug"):
        providers()


def test_naming_an_unknown_provider_is_a_discovery_error(plugins: Callable[..., None]) -> None:
    plugins(acme_ads=("nobody_login", None))
    with pytest.raises(NetworkError, match="'nobody_login' is declared nowhere"):
        providers()


def test_provider_settings_are_derived_and_the_older_names_still_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("METRICS_CONNECT_FACEBOOK_CLIENT_ID", "old-id")
    monkeypatch.setenv("METRICS_CONNECT_FACEBOOK_GRAPH_BASE_URL", "http://graph.old")
    monkeypatch.setenv("METRICS_CONNECT_GOOGLE_ADMIN_API_BASE_URL", "http://admin.old")
    monkeypatch.setenv("METRICS_CONNECT_GOOGLE_CLIENT_SECRET", "g-secret")
    settings = Settings()
    assert settings.facebook_login_client_id == "old-id"
    assert settings.facebook_login_api_base_url == "http://graph.old"
    assert settings.google_api_base_url == "http://admin.old"
    assert settings.google_client_secret == "g-secret"
    assert settings.google_token_url == "https://oauth2.googleapis.com/token"
    monkeypatch.setenv("METRICS_CONNECT_FACEBOOK_USE_PKCE", "false")
    assert not provider(Settings(), "facebook_login").use_pkce
    assert provider(Settings(), "google").use_pkce
    # The new name wins over the older one.
    monkeypatch.setenv("METRICS_CONNECT_FACEBOOK_LOGIN_CLIENT_ID", "new-id")
    assert Settings().facebook_login_client_id == "new-id"


def test_a_provider_declares_the_urls_of_its_protocol() -> None:
    base = {"name": "p_login", "label": "P", "token_url": "https://p.test/t", "api_base_url": "x"}
    with pytest.raises(ValueError, match="needs authorize_url"):
        ProviderSpec.model_validate(base)
    with pytest.raises(ValueError, match="needs request_token_url"):
        ProviderSpec.model_validate({**base, "protocol": "oauth1", "authorize_url": "https://p"})
    with pytest.raises(ValueError, match="reserved"):
        ProviderSpec.model_validate({**base, "name": "form", "authorize_url": "https://p"})
    assert ProviderSpec.model_validate({**base, "protocol": "client_credentials"})
