"""The format of a network's `network.yaml`: what the rest of the service needs to know
about a network, so that adding one edits nothing outside its folder."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# "module:attribute", the module relative to the network's package ("connector.hooks:X").
Target = str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingSpec(_Strict):
    """A setting the network adds (environment variable METRICS_CONNECT_<NAME>)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    default: str
    description: str


class ConnectSpec(_Strict):
    """How a customer connects the network on the connect page."""

    # The OAuth provider the customer signs in with (connect/providers.py).
    provider: str
    scopes: tuple[str, ...]
    # Lists the accounts a fresh token can see: async (http, api_base_url, version, token).
    accounts: Target
    # Asks a picked account's time zone when the listing does not carry it.
    account_timezone: Target | None = None
    # The setting of the host the listing asks, when it is not the provider's API host
    # (a Google API other than Analytics Admin); default: the provider's.
    accounts_base_url_setting: str | None = None
    no_accounts: str = "This login has no accounts to connect."


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
    family: Literal["meta_graph", "google", "json_rest"]
    group: Literal["social", "ads", "analytics", "crm", "commerce"]
    connect: ConnectSpec
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
