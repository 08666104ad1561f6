"""Connect forms: networks connected with an API key or a store URL instead of OAuth.

The customer fills the network's `connect.form` fields; each is required and bounded, a
`url` field is vetted by the SSRF guard (the webhook one, with the operator's
allowlist) before any call, and the network's `check` lists the accounts the fields
reach. The fields then wait, encrypted like tokens, in a grant for the account pick,
and become the integration's credentials.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect.accounts.models import IntegrationSession
from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.flow import oauth_transport_key, visible_accounts
from metrics_connect.connect.models import OAuthGrant
from metrics_connect.connect.oauth import ConnectFailed, client_credentials_token
from metrics_connect.connect.providers import provider
from metrics_connect.connect.service import new_form_grant
from metrics_connect.jobs.ssrf import WebhookGuard, WebhookURLRefused
from metrics_connect.jobs.transport import PinnedTransport
from metrics_connect.logging_setup import get_logger
from metrics_connect.networks.registry import Network, network, oauth_provider
from metrics_connect.networks.spec import FormField, FormSpec
from metrics_connect.runtime import Runtime

log = get_logger("metrics_connect.connect")

MAX_FIELD_LENGTH = 2048


# The form of a `protocol: client_credentials` provider: the customer's own API client.
CLIENT_CREDENTIALS = "client_credentials"
CLIENT_CREDENTIALS_FIELDS = (
    FormField(name="client_id", label="Client ID"),
    FormField(name="client_secret", label="Client secret", kind="secret"),
)


def form_of(slug: str) -> tuple[Network, FormSpec] | None:
    """The network's connect form: its `connect.form`, or the client id and secret of a
    client_credentials provider; None for an OAuth sign-in."""
    net = network(slug)
    if net is None:
        return None
    if net.spec.connect.form is not None:
        return net, net.spec.connect.form
    declared = oauth_provider(net.spec.connect.provider or "")
    if declared is None or declared.spec.protocol != CLIENT_CREDENTIALS:
        return None
    label = f"your {declared.spec.label} API credentials"
    form = FormSpec(label=label, fields=CLIENT_CREDENTIALS_FIELDS, check=CLIENT_CREDENTIALS)
    return net, form


def form_transport_key(slug: str) -> str:
    """Key of runtime.upstream_transports that tests use to route a form's check."""
    return f"form_{slug}"


async def _cleaned(guard: WebhookGuard, form: FormSpec, values: dict[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for field in form.fields:
        value = (values.get(field.name) or "").strip()
        if not value:
            raise ConnectFailed(f"{field.label} is required.")
        if len(value) > MAX_FIELD_LENGTH:
            raise ConnectFailed(f"{field.label} is too long.")
        if field.kind == "url":
            try:
                await guard.vet(value)
            except WebhookURLRefused as exc:
                # The guard's reason without its word on webhooks: this is a store.
                reason = exc.reason.split("; webhooks")[0].rstrip(".")
                raise ConnectFailed(f"{field.label}: {reason}.") from None
        fields[field.name] = value
    return fields


def _http(runtime: Runtime, net: Network, form: FormSpec, guard: WebhookGuard) -> httpx.AsyncClient:
    """A URL the customer typed is reached only through the SSRF guard's pinned transport;
    otherwise the network's own API host is the base URL."""
    routed = runtime.upstream_transports.get(form_transport_key(net.slug))
    has_url = any(f.kind == "url" for f in form.fields)
    return httpx.AsyncClient(
        transport=routed or (PinnedTransport(guard) if has_url else None),
        base_url="" if has_url else runtime.upstream_base_url(net.slug),
        timeout=runtime.settings.upstream_timeout_seconds,
        follow_redirects=False,
        headers={"User-Agent": "metrics-connect"},
    )


async def submit(
    db: AsyncSession,
    runtime: Runtime,
    record: IntegrationSession,
    slug: str,
    values: dict[str, str],
    *,
    integration_uuid: str | None,
) -> OAuthGrant:
    """The grant listing what the fields reach; ConnectFailed with a reason to show."""
    found = form_of(slug)
    if found is None:
        raise ConnectFailed("This network is not connected with a form.")
    net, form = found
    guard = WebhookGuard(runtime.settings.webhook_allowlist)
    fields = await _cleaned(guard, form, values)
    if form.check == CLIENT_CREDENTIALS:
        return await _client_credentials(db, runtime, record, net, fields, integration_uuid)
    check = net.load(form.check)
    async with _http(runtime, net, form, guard) as http:
        try:
            candidates: list[Candidate] = await check(http, fields)
        except WebhookURLRefused as exc:  # a redirect or a link to a refused host
            raise ConnectFailed(exc.reason) from None
        except httpx.HTTPError as exc:
            raise ConnectFailed(
                f"The network could not be reached ({type(exc).__name__})."
            ) from None
    grant = await new_form_grant(
        db,
        runtime.vault,
        record,
        slug=slug,
        integration_uuid=integration_uuid,
        fields=fields,
        candidates=candidates,
    )
    await db.commit()
    log.info("connect_form_checked", slug=slug, accounts=len(candidates))
    return grant


async def _client_credentials(
    db: AsyncSession,
    runtime: Runtime,
    record: IntegrationSession,
    net: Network,
    fields: dict[str, str],
    integration_uuid: str | None,
) -> OAuthGrant:
    """The token fetched server-side with the customer's client, then the accounts it
    sees; the client stays in the credentials (the connector fetches the next token)."""
    found = provider(runtime.settings, net.spec.connect.provider or "")
    tokens = await client_credentials_token(
        found,
        fields["client_id"],
        fields["client_secret"],
        runtime.upstream_transports.get(oauth_transport_key(found.name)),
        runtime.settings.upstream_timeout_seconds,
    )
    candidates = await visible_accounts(runtime, found, net.slug, tokens)
    kept = {k: str(tokens[k]) for k in ("access_token", "token_type", "expires_at") if k in tokens}
    grant = await new_form_grant(
        db,
        runtime.vault,
        record,
        slug=net.slug,
        integration_uuid=integration_uuid,
        fields={**fields, **kept},
        candidates=candidates,
    )
    await db.commit()
    log.info("connect_client_credentials_checked", slug=net.slug, accounts=len(candidates))
    return grant
