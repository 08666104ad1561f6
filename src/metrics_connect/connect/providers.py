"""The OAuth providers behind the networks: declared as data, configured by settings.

A provider is declared once, in a family kit's providers.yaml or a network's
network.yaml (`providers`); each network names its own in `connect.provider`. Its
client id, secret and URLs are settings derived from its name (<name>_client_id...).
A provider whose client id or secret is not configured is shown as unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from metrics_connect.networks.registry import Provider as DeclaredProvider
from metrics_connect.networks.registry import network, oauth_provider, providers
from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.settings import Settings


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    protocol: str
    client_id: str | None
    client_secret: str | None = field(repr=False)
    authorize_url: str
    token_url: str
    # Where the account listing is asked (Graph API host, Analytics Admin API host).
    api_base_url: str
    use_pkce: bool
    scope_separator: str
    token_auth: str = "client_secret_post"
    # OAuth 1.0a: the temporary-credentials endpoint.
    request_token_url: str | None = None
    # Extra authorization parameters (Google: offline access for a refresh token).
    authorize_params: dict[str, str] = field(default_factory=dict)
    declared: DeclaredProvider | None = None

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def hook(self, which: str) -> Any:
        """The provider's `exchange`/`refresh` hook, or None for the standard one."""
        if self.declared is None:
            return None
        target = getattr(self.declared.spec, which)
        return self.declared.load(target) if target else None


def _setting(settings: Settings, name: str) -> str | None:
    value = getattr(settings, name, None)
    return str(value) if value else None


def provider_from_settings(
    settings: Settings, spec: ProviderSpec, declared: DeclaredProvider | None = None
) -> Provider:
    """The provider `spec` as these settings configure it."""
    name = spec.name

    def url(suffix: str, default: str) -> str:
        return _setting(settings, f"{name}_{suffix}") or default

    return Provider(
        name=name,
        label=spec.label,
        protocol=spec.protocol,
        client_id=_setting(settings, f"{name}_client_id"),
        client_secret=_setting(settings, f"{name}_client_secret"),
        authorize_url=url("authorize_url", spec.authorize_url or ""),
        token_url=url("token_url", spec.token_url),
        api_base_url=url("api_base_url", spec.api_base_url).rstrip("/"),
        use_pkce=str(getattr(settings, f"{name}_pkce", spec.pkce)).lower()
        in {"1", "true", "yes", "on"},
        scope_separator=spec.scope_separator,
        token_auth=spec.token_auth,
        request_token_url=_setting(settings, f"{name}_request_token_url") or spec.request_token_url,
        authorize_params=dict(spec.authorize_params),
        declared=declared,
    )


def provider(settings: Settings, name: str) -> Provider:
    """The declared provider `name` (KeyError when nothing declares it)."""
    declared = oauth_provider(name)
    if declared is None:
        raise KeyError(name)
    return provider_from_settings(settings, declared.spec, declared)


def provider_names() -> list[str]:
    return list(providers())


def provider_for_slug(settings: Settings, slug: str) -> Provider | None:
    """The network's OAuth provider; None for an unknown network or a form network."""
    found = network(slug)
    name = found.spec.connect.provider if found else None
    return provider(settings, name) if name else None


def scopes_of(slug: str) -> tuple[str, ...]:
    """What the network needs the user to grant (its network.yaml `connect.scopes`)."""
    found = network(slug)
    return found.spec.connect.scopes if found else ()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def authorize_origins(settings: Settings) -> list[str]:
    """Origins the connect forms may lead to (CSP form-action follows redirects)."""
    seen: list[str] = []
    for name, declared in providers().items():
        if declared.spec.protocol == "client_credentials":  # no browser redirect
            continue
        o = origin(provider(settings, name).authorize_url)
        if o not in seen:
            seen.append(o)
    return seen


def callback_url(settings: Settings, provider_name: str) -> str:
    """The redirect URI to register with the provider (one per provider, fixed)."""
    return f"{settings.public_base_url.rstrip('/')}/connect/oauth/{provider_name}/callback"
