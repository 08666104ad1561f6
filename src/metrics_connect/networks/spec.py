"""The format of a network's `network.yaml`: what the rest of the service needs to know
about a network, so that adding one edits nothing outside its folder."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# "module:attribute", the module relative to the network's package ("connector.hooks:X").
Target = str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingSpec(_Strict):
    """A setting the network adds (environment variable METRICS_CONNECT_<NAME>)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    default: str
    description: str


class ProviderSpec(_Strict):
    """An OAuth provider a network (or a family kit's providers.yaml) declares.

    Its settings are derived: <name>_client_id, _client_secret, _authorize_url,
    _token_url, _request_token_url, _api_base_url, _pkce (env METRICS_CONNECT_<NAME>_...).
    Targets are relative to the declaring package, or absolute ("metrics_connect.x:y").
    """

    # Never a network slug (hence the "_login" of facebook_login): checked at discovery.
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)
    label: str
    protocol: Literal["oauth2", "oauth1", "client_credentials"] = "oauth2"
    # Where the browser consents (oauth2, oauth1); client_credentials has none.
    authorize_url: str | None = None
    token_url: str
    # OAuth 1.0a only: the temporary-credentials endpoint (authorize_url and token_url
    # are then the authorize and access_token endpoints).
    request_token_url: str | None = None
    # The host `connect.accounts` lists on by default.
    api_base_url: str
    scope_separator: str = " "
    pkce: bool = False
    token_auth: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    # The consent page's name for the client id (TikTok: app_id, Login Kit: client_key).
    client_id_param: str = Field(default="client_id", pattern=r"^[a-z][a-z_]*$")
    # Extra authorization parameters (Google: access_type=offline for a refresh token).
    authorize_params: dict[str, str] = Field(default_factory=dict)
    # async (client: AsyncOAuth2Client, provider, code, code_verifier) -> token dict, for a
    # non-standard code exchange; default: RFC 6749 §4.1.3.
    exchange: Target | None = None
    # async (http, settings, refresh_token) -> token dict | None, for a non-standard
    # refresh; default: RFC 6749 §6 (connectors/kit/oauth.py refresh_with_provider).
    refresh: Target | None = None
    # (spec, redirect_uris) -> an object with `.app` (ASGI) and `.client` (its registered
    # client) serving this provider in the sandbox; default: the sandbox kit's generic
    # authorization server (sandbox/kit/oauth_server.py).
    emulator: Target | None = None
    # Older setting names still read, by derived suffix: {"client_id": "facebook_client_id"}.
    setting_aliases: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name == FORM_GRANT:
            raise ValueError(f"{FORM_GRANT!r} is reserved for connect forms")
        return name

    @model_validator(mode="after")
    def _urls_of_the_protocol(self) -> ProviderSpec:
        if self.protocol != "client_credentials" and not self.authorize_url:
            raise ValueError(f"a {self.protocol} provider needs authorize_url")
        if self.protocol == "oauth1" and not self.request_token_url:
            raise ValueError("an oauth1 provider needs request_token_url")
        return self


# What a grant made by a connect form records as its provider.
FORM_GRANT = "form"


class FormField(_Strict):
    """One field of a connect form; `secret` is never shown again, `url` is vetted by
    the SSRF guard before any call."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    label: str
    kind: Literal["text", "secret", "url"] = "text"


class FormSpec(_Strict):
    """A connect form (API key, store URL) instead of an OAuth sign-in."""

    # Shown as "Sign in with <label>" and on the form page.
    label: str = "an API key"
    fields: tuple[FormField, ...] = Field(min_length=1)
    # async (http, fields: dict[str, str]) -> list[Candidate]; raises ConnectFailed with a
    # reason the customer reads. `http` has the network's API host as base_url, unless a
    # field is a url: then it only reaches hosts the SSRF guard admits.
    check: Target


class ConnectSpec(_Strict):
    """How a customer connects the network on the connect page."""

    # The OAuth provider the customer signs in with: a `providers` entry of a network or
    # of a family kit (connectors/kit/<family>/providers.yaml). Or a `form`.
    provider: str | None = None
    scopes: tuple[str, ...] = ()
    # Lists the accounts a fresh token can see: async (http, api_base_url, version, token).
    accounts: Target | None = None
    form: FormSpec | None = None
    # Asks a picked account's time zone when the listing does not carry it.
    account_timezone: Target | None = None
    # The setting of the host the listing asks, when it is not the provider's API host
    # (a Google API other than Analytics Admin); default: the provider's.
    accounts_base_url_setting: str | None = None
    no_accounts: str = "This login has no accounts to connect."

    @model_validator(mode="after")
    def _provider_or_form(self) -> ConnectSpec:
        if (self.provider is None) == (self.form is None):
            raise ValueError("connect needs exactly one of `provider` and `form`")
        if self.provider is not None and self.accounts is None:
            raise ValueError("connect.provider needs connect.accounts (the account listing)")
        return self


class DaysSpec(_Strict):
    """Which time zone the network's days are in: the account's, or a fixed one."""

    timezone: str = "account"


class ExampleSpec(_Strict):
    """A request the demo's banner prints as a ready curl."""

    start: str
    end: str
    widget: dict[str, object]


class NetworkSpec(_Strict):
    name: str
    family: Literal["meta_graph", "google", "json_rest", "restli"]
    group: Literal["social", "ads", "analytics", "crm", "commerce"]
    connect: ConnectSpec
    # OAuth providers this network brings (others may name them too).
    providers: tuple[ProviderSpec, ...] = ()
    days: DaysSpec = DaysSpec()
    # The setting holding the API host the connector calls (the sandbox points it at the
    # emulator); declared in `settings`.
    base_url_setting: str
    settings: tuple[SettingSpec, ...] = ()
    connector: Target
    emulator: Target | None = None
    # Archives what the network forgets: async (runtime, integration, connector, now).
    sync: Target | None = None
    # Fills the demo's archive before it serves: async (runtime, integration_uuid, sandbox).
    demo: Target | None = None
    example: ExampleSpec | None = None


class ProvidersFile(_Strict):
    """A family kit's providers.yaml: providers its networks share."""

    providers: tuple[ProviderSpec, ...]
