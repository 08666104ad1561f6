"""The OAuth providers behind each network, read from the settings.

Each network names its provider and scopes in its network.yaml (`connect`). A
provider whose client id or secret is not configured is shown as unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from metrics_connect.networks.registry import network
from metrics_connect.settings import Settings

FACEBOOK = "facebook"
GOOGLE = "google"

PROVIDER_NAMES = {FACEBOOK: "Facebook", GOOGLE: "Google"}


@dataclass(frozen=True)
class Provider:
    name: str
    client_id: str | None
    client_secret: str | None
    authorize_url: str
    token_url: str
    # Where the account listing is asked (Graph API host, Analytics Admin API host).
    api_base_url: str
    use_pkce: bool
    scope_separator: str
    # Extra authorization parameters (Google: offline access for a refresh token).
    authorize_params: dict[str, str] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def label(self) -> str:
        return PROVIDER_NAMES[self.name]


def provider(settings: Settings, name: str) -> Provider:
    if name == FACEBOOK:
        return Provider(
            name=FACEBOOK,
            client_id=settings.facebook_client_id,
            client_secret=settings.facebook_client_secret,
            authorize_url=settings.facebook_authorize_url,
            token_url=settings.facebook_token_url,
            api_base_url=settings.facebook_graph_base_url.rstrip("/"),
            use_pkce=settings.facebook_use_pkce,
            scope_separator=",",
        )
    if name == GOOGLE:
        return Provider(
            name=GOOGLE,
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret,
            authorize_url=settings.google_authorize_url,
            token_url=settings.google_token_url,
            api_base_url=settings.google_admin_api_base_url.rstrip("/"),
            use_pkce=True,
            scope_separator=" ",
            # offline: a refresh token; consent: Google sends it again on a reconnect.
            authorize_params={
                "access_type": "offline",
                "prompt": "consent",
                "include_granted_scopes": "true",
            },
        )
    raise KeyError(name)


def provider_for_slug(settings: Settings, slug: str) -> Provider | None:
    found = network(slug)
    return provider(settings, found.spec.connect.provider) if found else None


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
    for name in (FACEBOOK, GOOGLE):
        o = origin(provider(settings, name).authorize_url)
        if o not in seen:
            seen.append(o)
    return seen


def callback_url(settings: Settings, provider_name: str) -> str:
    """The redirect URI to register with the provider (one per provider, fixed)."""
    return f"{settings.public_base_url.rstrip('/')}/connect/oauth/{provider_name}/callback"
