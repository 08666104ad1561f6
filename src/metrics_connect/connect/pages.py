"""The connect page: what a customer sees behind a session link.

Server-rendered, no script: every action is a plain form POST carrying the
session's CSRF token. Tokens never reach a URL, a log line or the page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect.accounts.models import CustomerIntegration, IntegrationSession
from metrics_connect.api.deps import RuntimeDep
from metrics_connect.catalog.networks import available_integrations, network_name
from metrics_connect.connect import flow, forms
from metrics_connect.connect.oauth import ConnectFailed
from metrics_connect.connect.providers import provider_for_slug, provider_names
from metrics_connect.connect.security import csrf_token, csrf_valid, same_origin, security_headers
from metrics_connect.connect.service import (
    binding_cookie_name,
    customer_integrations,
    grant_candidates,
    integration_of,
    is_live,
    load_session,
    open_grant,
)
from metrics_connect.logging_setup import get_logger
from metrics_connect.networks import registry as network_registry
from metrics_connect.networks.registry import oauth_provider
from metrics_connect.networks.spec import FORM_GRANT
from metrics_connect.runtime import Runtime

log = get_logger("metrics_connect.connect")

router = APIRouter(include_in_schema=False)

SESSION_PATH = "/customer-integrations/session/{session_uuid}"
STATIC_URL = "/connect/static/connect.css"
# The connect page's groups of networks (network.yaml `group`), in this order.
GROUP_LABELS = {
    "social": "Social",
    "ads": "Ads",
    "analytics": "Analytics and search",
    "crm": "CRM and email",
    "commerce": "Commerce",
}

templates = Environment(
    loader=PackageLoader("metrics_connect.connect", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)

NOTICES: dict[str, tuple[str, str]] = {
    "connected": ("ok", "Connected. It now appears under your connections."),
    "reconnected": ("ok", "Reconnected. The connection is active again."),
    "removed": ("ok", "The connection was removed."),
    "denied": ("info", "Nothing was connected: the permission request was declined."),
    "failed": ("error", "The network did not complete the sign-in. Please try again."),
    "unavailable": ("error", "This network cannot be connected on this server."),
}

STATUS_LABELS = {"active": "Active", "expired": "Expired", "revoked": "Access revoked"}


def session_url(session_uuid: str) -> str:
    return SESSION_PATH.format(session_uuid=session_uuid)


def render(runtime: Runtime, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    body = templates.get_template(template).render(static_url=STATIC_URL, **context)
    return HTMLResponse(body, status_code=status_code, headers=security_headers(runtime.settings))


def redirect(runtime: Runtime, url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=security_headers(runtime.settings))


CALLBACK_PATH = "/connect/oauth/"


def to_provider(runtime: Runtime, started: flow.Started) -> RedirectResponse:
    """To the consent page, leaving on this browser the cookie its callback must bring."""
    response = redirect(runtime, started.authorize_url)
    response.set_cookie(
        started.cookie_name,
        started.cookie_value,
        max_age=runtime.settings.session_ttl_seconds,
        path=CALLBACK_PATH,
        secure=runtime.settings.public_base_url.startswith("https://"),
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to us
    )
    return response


def message(
    runtime: Runtime,
    status_code: int,
    heading: str,
    text: str,
    *,
    kind: str = "error",
    back_url: str | None = None,
    back_label: str | None = None,
) -> HTMLResponse:
    return render(
        runtime,
        "message.html",
        status_code,
        heading=heading,
        text=text,
        kind=kind,
        back_url=back_url,
        back_label=back_label,
    )


def expired_page(runtime: Runtime, record: IntegrationSession) -> HTMLResponse:
    merchant = record.customer.merchant.name
    return message(
        runtime,
        401,
        "This link has expired",
        f"Connect links work for a few minutes only. Ask {merchant} for a new link.",
        back_url=safe_redirect_url(record.redirect_url),
        back_label=f"Back to {merchant}",
    )


def not_found_page(runtime: Runtime) -> HTMLResponse:
    return message(
        runtime,
        404,
        "Link not found",
        "This connect link is not valid. Ask for a new link.",
    )


def forbidden_page(runtime: Runtime, back_url: str | None) -> HTMLResponse:
    return message(
        runtime,
        403,
        "Request refused",
        "This form is out of date or did not come from this page. Go back and try again.",
        back_url=back_url,
    )


def safe_redirect_url(url: str | None) -> str | None:
    """Only http(s) URLs become the Done button (never javascript: or data:)."""
    if not url:
        return None
    return url if urlsplit(url).scheme in {"http", "https"} else None


async def _live(
    db: AsyncSession, runtime: Runtime, session_uuid: str
) -> IntegrationSession | HTMLResponse:
    record = await load_session(db, session_uuid)
    if record is None:
        return not_found_page(runtime)
    if not is_live(record):
        return expired_page(runtime, record)
    return record


def served_slugs() -> set[str]:
    return {network["slug"] for network in available_integrations()}


def connectable(runtime: Runtime, slug: str) -> bool:
    """A network this deployment serves, connected by a form or by an OAuth provider
    whose client is configured."""
    if slug not in served_slugs():
        return False
    if forms.form_of(slug) is not None:
        return True
    found = provider_for_slug(runtime.settings, slug)
    return bool(found and found.configured)


def sign_in_label(runtime: Runtime, slug: str) -> str | None:
    """ "Sign in with <this>": the provider's label, or the form's."""
    form = forms.form_of(slug)
    if form is not None:
        return form[1].label
    found = provider_for_slug(runtime.settings, slug)
    return found.label if found else None


def _integration_item(
    runtime: Runtime, session_uuid: str, row: CustomerIntegration
) -> dict[str, Any]:
    base = session_url(session_uuid)
    return {
        "network": network_name(row.slug),
        "source_name": row.source_name,
        "status": row.status,
        "status_label": STATUS_LABELS.get(row.status, row.status),
        "can_reconnect": row.status in {"expired", "revoked"} and connectable(runtime, row.slug),
        "reconnect_url": f"{base}/integrations/{row.uuid}/reconnect",
        "remove_url": f"{base}/integrations/{row.uuid}/remove",
    }


@router.get(SESSION_PATH, response_class=HTMLResponse)
async def session_page(
    session_uuid: str,
    runtime: RuntimeDep,
    notice: str | None = None,
    q: str | None = Query(default=None, max_length=100),
) -> Response:
    async with runtime.db.session() as db:
        record = await _live(db, runtime, session_uuid)
        if isinstance(record, HTMLResponse):
            return record
        rows = await customer_integrations(db, record.customer)
    groups = _network_groups(runtime, session_url(session_uuid), q)
    items = [_integration_item(runtime, session_uuid, row) for row in rows]
    kind_text = NOTICES.get(notice or "")
    return render(
        runtime,
        "session.html",
        merchant_name=record.customer.merchant.name,
        customer_name=record.customer.name,
        expires_at=record.expires_at.strftime("%H:%M"),
        notice={"kind": kind_text[0], "text": kind_text[1]} if kind_text else None,
        integrations=items,
        groups=groups,
        query=(q or "").strip(),
        csrf=csrf_token(runtime.settings, session_uuid),
        redirect_url=safe_redirect_url(record.redirect_url),
    )


def _network_groups(runtime: Runtime, base: str, query: str | None) -> list[dict[str, Any]]:
    """The networks offered, in the connect page's groups, those matching the search."""
    wanted = (query or "").strip().casefold()
    grouped: dict[str, list[dict[str, Any]]] = {group: [] for group in GROUP_LABELS}
    for available in available_integrations():
        slug, name = available["slug"], available["name"]
        if wanted and wanted not in name.casefold() and wanted not in slug.casefold():
            continue
        net = network_registry.network(slug)
        usable = connectable(runtime, slug)
        grouped[net.spec.group if net else "analytics"].append(
            {
                "name": name,
                "provider": sign_in_label(runtime, slug) if usable else None,
                "connect_url": f"{base}/connect/{slug}" if usable else None,
            }
        )
    return [
        {"label": GROUP_LABELS[group], "networks": networks}
        for group, networks in grouped.items()
        if networks
    ]


async def _checked_form(
    request: Request, runtime: Runtime, db: AsyncSession, session_uuid: str, submitted: str | None
) -> IntegrationSession | HTMLResponse:
    record = await _live(db, runtime, session_uuid)
    if isinstance(record, HTMLResponse):
        return record
    if not same_origin(request, runtime.settings) or not csrf_valid(
        runtime.settings, session_uuid, submitted
    ):
        log.warning("connect_form_refused", reason="csrf_or_origin")
        return forbidden_page(runtime, session_url(session_uuid))
    return record


@router.post(SESSION_PATH + "/connect/{slug}")
async def start_connect(
    request: Request,
    session_uuid: str,
    slug: str,
    runtime: RuntimeDep,
    csrf_token: str | None = Form(default=None, max_length=128),
) -> Response:
    async with runtime.db.session() as db:
        record = await _checked_form(request, runtime, db, session_uuid, csrf_token)
        if isinstance(record, HTMLResponse):
            return record
        if not connectable(runtime, slug):
            return redirect(runtime, session_url(session_uuid) + "?notice=unavailable")
        if forms.form_of(slug) is not None:
            return redirect(runtime, session_url(session_uuid) + f"/form/{slug}")
        try:
            started = await flow.begin(db, runtime, record, slug, integration_uuid=None)
        except ConnectFailed as exc:  # OAuth 1.0a: the request token was refused
            log.warning("connect_start_failed", slug=slug, reason=exc.reason)
            return redirect(runtime, session_url(session_uuid) + "?notice=failed")
        await db.commit()
    return to_provider(runtime, started)


@router.post(SESSION_PATH + "/integrations/{integration_uuid}/reconnect")
async def start_reconnect(
    request: Request,
    session_uuid: str,
    integration_uuid: str,
    runtime: RuntimeDep,
    csrf_token: str | None = Form(default=None, max_length=128),
) -> Response:
    async with runtime.db.session() as db:
        record = await _checked_form(request, runtime, db, session_uuid, csrf_token)
        if isinstance(record, HTMLResponse):
            return record
        row = await integration_of(db, record.customer, integration_uuid[:64])
        if row is None:
            return _integration_not_found(runtime, session_uuid)
        if not connectable(runtime, row.slug):
            return redirect(runtime, session_url(session_uuid) + "?notice=unavailable")
        if forms.form_of(row.slug) is not None:
            form_url = session_url(session_uuid) + f"/form/{row.slug}?reconnect={row.uuid}"
            return redirect(runtime, form_url)
        try:
            started = await flow.begin(db, runtime, record, row.slug, integration_uuid=row.uuid)
        except ConnectFailed as exc:
            log.warning("connect_start_failed", slug=row.slug, reason=exc.reason)
            return redirect(runtime, session_url(session_uuid) + "?notice=failed")
        await db.commit()
    return to_provider(runtime, started)


def _integration_not_found(runtime: Runtime, session_uuid: str) -> HTMLResponse:
    return message(
        runtime,
        404,
        "Connection not found",
        "This connection does not exist among yours.",
        back_url=session_url(session_uuid),
    )


@router.get(SESSION_PATH + "/integrations/{integration_uuid}/remove", response_class=HTMLResponse)
async def confirm_remove(session_uuid: str, integration_uuid: str, runtime: RuntimeDep) -> Response:
    async with runtime.db.session() as db:
        record = await _live(db, runtime, session_uuid)
        if isinstance(record, HTMLResponse):
            return record
        row = await integration_of(db, record.customer, integration_uuid[:64])
        if row is None:
            return _integration_not_found(runtime, session_uuid)
    return render(
        runtime,
        "remove.html",
        merchant_name=record.customer.merchant.name,
        network=network_name(row.slug),
        source_name=row.source_name,
        action=session_url(session_uuid) + f"/integrations/{row.uuid}/remove",
        csrf=csrf_token(runtime.settings, session_uuid),
        back_url=session_url(session_uuid),
    )


@router.post(SESSION_PATH + "/integrations/{integration_uuid}/remove")
async def remove_integration(
    request: Request,
    session_uuid: str,
    integration_uuid: str,
    runtime: RuntimeDep,
    csrf_token: str | None = Form(default=None, max_length=128),
) -> Response:
    async with runtime.db.session() as db:
        record = await _checked_form(request, runtime, db, session_uuid, csrf_token)
        if isinstance(record, HTMLResponse):
            return record
        row = await integration_of(db, record.customer, integration_uuid[:64])
        if row is None:
            return _integration_not_found(runtime, session_uuid)
        await db.delete(row)
        await db.commit()
    # As the API's DELETE: a metrics request on this process stops seeing it at once.
    await runtime.auth_cache.forget_integration(row.id)
    log.info("connect_integration_removed", integration=integration_uuid, slug=row.slug)
    return redirect(runtime, session_url(session_uuid) + "?notice=removed")


@router.get(CALLBACK_PATH + "{provider_name}/callback")
async def oauth_callback(
    request: Request,
    provider_name: str,
    runtime: RuntimeDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    oauth_token: str | None = None,
    oauth_verifier: str | None = None,
    denied: str | None = None,
) -> Response:
    """OAuth 2.0 brings code (or error); OAuth 1.0a oauth_token and oauth_verifier (or
    denied, X's refusal), and our state in the callback URL's own query."""
    if provider_name not in provider_names():
        return message(runtime, 404, "Not found", "There is nothing here.")
    cookie = binding_cookie_name(state) if state else None
    binding = request.cookies.get(cookie) if cookie else None
    if oauth_verifier is not None or denied is not None:
        code, error = oauth_verifier, error or ("access_denied" if denied is not None else None)
    async with runtime.db.session() as db:
        outcome = await flow.complete(
            db, runtime, provider_name, state, code, error, binding, oauth_token
        )
    response = _callback_response(runtime, outcome)
    if cookie and binding and not outcome.refused:
        response.delete_cookie(cookie, path=CALLBACK_PATH)  # its flow is over
    return response


def _callback_response(runtime: Runtime, outcome: flow.Outcome) -> Response:
    if outcome.refused:
        return message(
            runtime,
            400,
            "Sign-in not accepted",
            "This sign-in could not be matched to a connect link: it was already used, "
            "or it was started in another browser. Open your connect link again.",
        )
    if outcome.expired_session is not None:
        return expired_page(runtime, outcome.expired_session)
    return redirect(runtime, outcome.location)


@router.get(SESSION_PATH + "/pick/{grant_uuid}", response_class=HTMLResponse)
async def pick_page(session_uuid: str, grant_uuid: str, runtime: RuntimeDep) -> Response:
    async with runtime.db.session() as db:
        record = await _live(db, runtime, session_uuid)
        if isinstance(record, HTMLResponse):
            return record
        grant = await open_grant(db, record, grant_uuid)
        if grant is None:
            return _grant_gone(runtime, session_uuid)
        candidates = grant_candidates(grant)
        reconnect_target = None
        if grant.integration_uuid:
            reconnect_target = await integration_of(db, record.customer, grant.integration_uuid)
    if reconnect_target is not None:
        candidates = [c for c in candidates if c.external_id == reconnect_target.external_id]
    return render(
        runtime,
        "pick.html",
        merchant_name=record.customer.merchant.name,
        network=network_name(grant.slug),
        provider=_provider_label(grant.provider, grant.slug),
        reconnecting=reconnect_target is not None,
        candidates=candidates,
        empty_message=_empty_message(grant.slug, reconnect_target),
        action=session_url(session_uuid) + f"/pick/{grant.uuid}",
        csrf=csrf_token(runtime.settings, session_uuid),
        back_url=session_url(session_uuid),
    )


def _provider_label(name: str, slug: str) -> str:
    form = forms.form_of(slug)
    if name == FORM_GRANT and form is not None:
        return form[1].label
    declared = oauth_provider(name)
    return declared.spec.label if declared else name


def _empty_message(slug: str, reconnect_target: CustomerIntegration | None) -> str:
    if reconnect_target is not None:
        return (
            f"This login cannot see {reconnect_target.source_name}. Sign in with the "
            "account that manages it."
        )
    net = network_registry.network(slug)
    return net.spec.connect.no_accounts if net else "This login has no accounts to connect."


def _grant_gone(runtime: Runtime, session_uuid: str) -> HTMLResponse:
    return message(
        runtime,
        410,
        "Choice no longer available",
        "This account choice was already made or has timed out. Start the connection again.",
        back_url=session_url(session_uuid),
    )


@router.post(SESSION_PATH + "/pick/{grant_uuid}")
async def pick_account(
    request: Request,
    session_uuid: str,
    grant_uuid: str,
    runtime: RuntimeDep,
    csrf_token: str | None = Form(default=None, max_length=128),
    account: str | None = Form(default=None, max_length=255),
) -> Response:
    async with runtime.db.session() as db:
        record = await _checked_form(request, runtime, db, session_uuid, csrf_token)
        if isinstance(record, HTMLResponse):
            return record
        grant = await open_grant(db, record, grant_uuid)
        if grant is None:
            return _grant_gone(runtime, session_uuid)
        try:
            saved = await flow.pick(db, runtime, record, grant, account or "")
        except flow.NotOffered:
            return message(
                runtime,
                422,
                "Choose an account",
                "That account is not among the ones this login can see.",
                back_url=session_url(session_uuid) + f"/pick/{grant.uuid}",
            )
        except ConnectFailed as exc:
            log.warning("connect_pick_failed", slug=grant.slug, reason=exc.reason)
            return redirect(runtime, session_url(session_uuid) + "?notice=failed")
        if saved is None:
            return _grant_gone(runtime, session_uuid)
    notice = "reconnected" if saved.reconnected else "connected"
    return redirect(runtime, session_url(session_uuid) + f"?notice={notice}")


def _form_page(
    runtime: Runtime,
    record: IntegrationSession,
    slug: str,
    reconnect: str | None,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = forms.form_of(slug)
    assert found is not None
    form = found[1]
    action = session_url(record.uuid) + f"/form/{slug}"
    kept = values or {}
    fields = [
        {
            "name": f.name,
            "label": f.label,
            "type": {"secret": "password", "url": "url"}.get(f.kind, "text"),
            # A secret is never sent back to the browser.
            "value": "" if f.kind == "secret" else kept.get(f.name, ""),
        }
        for f in form.fields
    ]
    return render(
        runtime,
        "form.html",
        status_code,
        merchant_name=record.customer.merchant.name,
        network=network_name(slug),
        label=form.label,
        fields=fields,
        error=error,
        action=action + (f"?reconnect={reconnect}" if reconnect else ""),
        csrf=csrf_token(runtime.settings, record.uuid),
        back_url=session_url(record.uuid),
    )


@router.get(SESSION_PATH + "/form/{slug}", response_class=HTMLResponse)
async def form_page(
    session_uuid: str,
    slug: str,
    runtime: RuntimeDep,
    reconnect: str | None = Query(default=None, max_length=64),
) -> Response:
    async with runtime.db.session() as db:
        record = await _live(db, runtime, session_uuid)
        if isinstance(record, HTMLResponse):
            return record
        if forms.form_of(slug) is None or not connectable(runtime, slug):
            return redirect(runtime, session_url(session_uuid) + "?notice=unavailable")
        if reconnect and await integration_of(db, record.customer, reconnect) is None:
            return _integration_not_found(runtime, session_uuid)
    return _form_page(runtime, record, slug, reconnect)


@router.post(SESSION_PATH + "/form/{slug}")
async def submit_form(
    request: Request,
    session_uuid: str,
    slug: str,
    runtime: RuntimeDep,
    reconnect: str | None = Query(default=None, max_length=64),
) -> Response:
    submitted = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    async with runtime.db.session() as db:
        record = await _checked_form(
            request, runtime, db, session_uuid, submitted.get("csrf_token")
        )
        if isinstance(record, HTMLResponse):
            return record
        if forms.form_of(slug) is None or not connectable(runtime, slug):
            return redirect(runtime, session_url(session_uuid) + "?notice=unavailable")
        target = await integration_of(db, record.customer, reconnect) if reconnect else None
        if reconnect and (target is None or target.slug != slug):
            return _integration_not_found(runtime, session_uuid)
        try:
            grant = await forms.submit(
                db,
                runtime,
                record,
                slug,
                submitted,
                integration_uuid=target.uuid if target else None,
            )
        except ConnectFailed as exc:
            log.info("connect_form_refused", slug=slug, reason=exc.reason)
            return _form_page(
                runtime,
                record,
                slug,
                reconnect,
                error=exc.reason,
                values=submitted,
                status_code=422,
            )
    return redirect(runtime, session_url(session_uuid) + f"/pick/{grant.uuid}")
