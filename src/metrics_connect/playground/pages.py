"""The playground's pages: sign in, pick a customer, an integration and widgets, run.

Server-rendered (Jinja2) under the connect page's strict headers, plus this origin's
own scripts: the charts (Chart.js, vendored), table sorting and the live widget
search. Signing in, every error page and every form work without JavaScript; each
POST carries a CSRF token bound to the session (or, before it, to a sign-in cookie).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect import clock
from metrics_connect.accounts.models import Customer, CustomerIntegration, Merchant
from metrics_connect.accounts.principals import CustomerPrincipal
from metrics_connect.accounts.service import customer_integration, merchant_customer
from metrics_connect.api.deps import RuntimeDep, customer_in_good_standing
from metrics_connect.catalog.networks import network_name
from metrics_connect.connect.security import csrf_token, csrf_valid, same_origin, security_headers
from metrics_connect.connect.service import customer_integrations
from metrics_connect.engine.days import account_today
from metrics_connect.logging_setup import get_logger
from metrics_connect.playground import present
from metrics_connect.playground.choices import WidgetChoice, choices_by_key, widget_choices
from metrics_connect.playground.periods import COMPARISONS, PRESETS, PeriodError, resolve_periods
from metrics_connect.playground.runner import WidgetRun, run_widgets
from metrics_connect.playground.session import (
    COOKIE_PATH,
    SESSION_COOKIE,
    SESSION_SECONDS,
    SIGN_IN_COOKIE,
    SIGN_IN_LINK_PATH,
    Signed,
    issue_session,
    merchant_by_token,
    new_sign_in_binding,
    peek_ticket,
    read_session,
    spend_ticket,
    ticket_spent,
)
from metrics_connect.runtime import Runtime

log = get_logger("metrics_connect.playground")

router = APIRouter(include_in_schema=False)

HOME = "/playground"
STATIC = "/playground/static"
MAX_RUN_WIDGETS = 12
MAX_CUSTOMERS = 500
STATUS_LABELS = {"active": "Active", "expired": "Expired", "revoked": "Access revoked"}

templates = Environment(
    loader=PackageLoader("metrics_connect.playground", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def headers(runtime: Runtime) -> dict[str, str]:
    return security_headers(runtime.settings, own_scripts=True)


def render(runtime: Runtime, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    body = templates.get_template(template).render(static=STATIC, home=HOME, **context)
    return HTMLResponse(body, status_code=status_code, headers=headers(runtime))


def message(
    runtime: Runtime,
    status_code: int,
    heading: str,
    text: str,
    *,
    back_url: str = HOME,
    back_label: str = "Back to the playground",
) -> HTMLResponse:
    return render(
        runtime,
        "message.html",
        status_code,
        heading=heading,
        text=text,
        back_url=back_url,
        back_label=back_label,
    )


def refused(runtime: Runtime) -> HTMLResponse:
    log.warning("playground_form_refused", reason="csrf_or_origin")
    return message(
        runtime,
        403,
        "Request refused",
        "This form is out of date or did not come from this page. Go back and try again.",
    )


def _secure(runtime: Runtime) -> bool:
    return runtime.settings.public_base_url.startswith("https://")


def _signed_in(runtime: Runtime, signed_merchant: Merchant) -> RedirectResponse:
    response = RedirectResponse(HOME, status_code=303, headers=headers(runtime))
    response.set_cookie(
        SESSION_COOKIE,
        issue_session(runtime.settings, signed_merchant),
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        secure=_secure(runtime),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)
    log.info("playground_signed_in", merchant=signed_merchant.uuid)
    return response


def _sign_in_binding(request: Request) -> tuple[str, bool]:
    """The browser's sign-in cookie, or a new one (True: to be set)."""
    current = request.cookies.get(SIGN_IN_COOKIE, "")
    if 16 <= len(current) <= 64:
        return current, False
    return new_sign_in_binding(), True


def _with_binding(runtime: Runtime, response: Response, binding: str, new: bool) -> Response:
    if new:
        response.set_cookie(
            SIGN_IN_COOKIE,
            binding,
            max_age=3600,
            path=COOKIE_PATH,
            secure=_secure(runtime),
            httponly=True,
            samesite="lax",
        )
    return response


def _sign_in_csrf(runtime: Runtime, binding: str) -> str:
    return csrf_token(runtime.settings, f"playground-sign-in:{binding}")


def sign_in_page(
    runtime: Runtime, request: Request, status_code: int = 200, error: str | None = None
) -> Response:
    binding, new = _sign_in_binding(request)
    page = render(
        runtime,
        "sign_in.html",
        status_code,
        csrf=_sign_in_csrf(runtime, binding),
        error=error,
    )
    return _with_binding(runtime, page, binding, new)


def _sign_in_form_ok(request: Request, runtime: Runtime, submitted: str | None) -> bool:
    binding = request.cookies.get(SIGN_IN_COOKIE, "")
    return (
        bool(binding)
        and same_origin(request, runtime.settings)
        and csrf_valid(runtime.settings, f"playground-sign-in:{binding}", submitted)
    )


async def _session(request: Request, runtime: Runtime, db: AsyncSession) -> Signed | None:
    return await read_session(db, runtime.settings, request.cookies.get(SESSION_COOKIE))


@router.post(HOME + "/sign-in")
async def sign_in(
    request: Request,
    runtime: RuntimeDep,
    token: str = Form(default="", max_length=256),
    csrf_token: str | None = Form(default=None, max_length=128),
) -> Response:
    if not _sign_in_form_ok(request, runtime, csrf_token):
        return refused(runtime)
    async with runtime.db.session() as db:
        merchant = await merchant_by_token(db, token)
    if merchant is None:
        log.info("playground_sign_in_refused")
        return sign_in_page(
            runtime, request, 401, "That token does not belong to any merchant here."
        )
    return _signed_in(runtime, merchant)


@router.get(SIGN_IN_LINK_PATH, response_class=HTMLResponse)
async def sign_in_link_page(request: Request, runtime: RuntimeDep, ticket: str = "") -> Response:
    async with runtime.db.session() as db:
        signed = await peek_ticket(db, runtime.settings, ticket[:256])
    if signed is None or ticket_spent(runtime, signed):
        return _link_dead(runtime)
    binding, new = _sign_in_binding(request)
    page = render(
        runtime,
        "sign_in_link.html",
        merchant_name=signed.merchant.name,
        ticket=ticket,
        csrf=_sign_in_csrf(runtime, binding),
    )
    return _with_binding(runtime, page, binding, new)


def _link_dead(runtime: Runtime) -> HTMLResponse:
    return message(
        runtime,
        401,
        "This sign-in link cannot be used",
        "A sign-in link works once, for a limited time. Sign in with your merchant token.",
        back_label="Sign in",
    )


@router.post(SIGN_IN_LINK_PATH)
async def use_sign_in_link(
    request: Request,
    runtime: RuntimeDep,
    ticket: str = Form(default="", max_length=256),
    csrf_token: str | None = Form(default=None, max_length=128),
) -> Response:
    if not _sign_in_form_ok(request, runtime, csrf_token):
        return refused(runtime)
    async with runtime.db.session() as db:
        signed = await peek_ticket(db, runtime.settings, ticket)
    if signed is None or not spend_ticket(runtime, signed):
        return _link_dead(runtime)
    return _signed_in(runtime, signed.merchant)


@router.post(HOME + "/sign-out")
async def sign_out(
    request: Request,
    runtime: RuntimeDep,
    csrf_token: str | None = Form(default=None, max_length=128),
) -> Response:
    async with runtime.db.session() as db:
        signed = await _session(request, runtime, db)
    if signed is not None and not (
        same_origin(request, runtime.settings)
        and csrf_valid(runtime.settings, signed.nonce, csrf_token)
    ):
        return refused(runtime)
    response = RedirectResponse(HOME, status_code=303, headers=headers(runtime))
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


async def _customers(db: AsyncSession, merchant: Merchant) -> list[Customer]:
    rows = await db.scalars(
        select(Customer)
        .where(Customer.merchant_id == merchant.id)
        .order_by(Customer.name, Customer.id)
        .limit(MAX_CUSTOMERS)
    )
    return list(rows)


def _not_found(runtime: Runtime, what: str) -> HTMLResponse:
    return message(runtime, 404, f"{what} not found", f"This {what.lower()} is not among yours.")


class Selection:
    """The customer and integration a page is about, checked against the merchant."""

    def __init__(self) -> None:
        self.customers: list[Customer] = []
        self.customer: Customer | None = None
        self.integrations: list[CustomerIntegration] = []
        self.integration: CustomerIntegration | None = None


async def _select(
    runtime: Runtime,
    db: AsyncSession,
    merchant: Merchant,
    customer_uuid: str | None,
    integration_uuid: str | None,
) -> Selection | HTMLResponse:
    chosen = Selection()
    chosen.customers = await _customers(db, merchant)
    if customer_uuid:
        chosen.customer = await merchant_customer(db, merchant, customer_uuid[:64])
        if chosen.customer is None:
            return _not_found(runtime, "Customer")
        chosen.integrations = await customer_integrations(db, chosen.customer)
    if integration_uuid:
        if chosen.customer is None:
            return _not_found(runtime, "Integration")
        chosen.integration = await customer_integration(db, chosen.customer, integration_uuid[:64])
        if chosen.integration is None:
            return _not_found(runtime, "Integration")
    return chosen


def _workbench(
    runtime: Runtime,
    signed: Signed,
    chosen: Selection,
    *,
    query: str = "",
    form: dict[str, Any] | None = None,
    runs: list[WidgetRun] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    integration = chosen.integration
    choices: list[WidgetChoice] = []
    today = None
    if integration is not None:
        choices = [c for c in widget_choices(integration.slug) if not query or c.matches(query)]
        today = account_today(clock.now(), integration.timezone)
    form = form or {}
    return render(
        runtime,
        "workbench.html",
        status_code,
        merchant_name=signed.merchant.name,
        csrf=csrf_token(runtime.settings, signed.nonce),
        customers=chosen.customers,
        customer=chosen.customer,
        integrations=[
            {
                "uuid": row.uuid,
                "network": network_name(row.slug),
                "source_name": row.source_name,
                "status": row.status,
                "status_label": STATUS_LABELS.get(row.status, row.status),
            }
            for row in chosen.integrations
        ],
        integration=integration,
        integration_network=network_name(integration.slug) if integration else "",
        today=today,
        query=query,
        choices=choices,
        picked=set(form.get("widgets", [])),
        preset=form.get("preset", "last_30_days"),
        comparison=form.get("comparison", "previous_period"),
        dates=form,
        presets=PRESETS,
        comparisons=COMPARISONS,
        max_widgets=MAX_RUN_WIDGETS,
        runs=runs,
        problem=problem,
        present=present,
    )


@router.get(HOME, response_class=HTMLResponse)
async def home(
    request: Request,
    runtime: RuntimeDep,
    customer: str | None = None,
    integration: str | None = None,
    q: str = "",
) -> Response:
    async with runtime.db.session() as db:
        signed = await _session(request, runtime, db)
        if signed is None:
            return sign_in_page(runtime, request)
        chosen = await _select(runtime, db, signed.merchant, customer, integration)
    if isinstance(chosen, HTMLResponse):
        return chosen
    return _workbench(runtime, signed, chosen, query=q[:200])


@router.post(HOME + "/run", response_class=HTMLResponse)
async def run(
    request: Request,
    runtime: RuntimeDep,
    csrf_token: str | None = Form(default=None, max_length=128),
    customer: str = Form(default="", max_length=64),
    integration: str = Form(default="", max_length=64),
    widgets: list[str] = Form(default=[]),
    preset: str = Form(default="last_30_days", max_length=32),
    start: str = Form(default="", max_length=32),
    end: str = Form(default="", max_length=32),
    comparison: str = Form(default="none", max_length=32),
    comparison_start: str = Form(default="", max_length=32),
    comparison_end: str = Form(default="", max_length=32),
    q: str = Form(default="", max_length=200),
) -> Response:
    async with runtime.db.session() as db:
        signed = await _session(request, runtime, db)
        if signed is None:
            return message(
                runtime,
                401,
                "Sign in first",
                "Your playground session has ended. Sign in again with your merchant token.",
                back_label="Sign in",
            )
        if not same_origin(request, runtime.settings) or not csrf_valid(
            runtime.settings, signed.nonce, csrf_token
        ):
            return refused(runtime)
        chosen = await _select(runtime, db, signed.merchant, customer, integration)
    if isinstance(chosen, HTMLResponse):
        return chosen
    form = {
        "widgets": widgets,
        "preset": preset,
        "start": start,
        "end": end,
        "comparison": comparison,
        "comparison_start": comparison_start,
        "comparison_end": comparison_end,
    }
    picked, problem = _picked(chosen, widgets)
    if problem is None and chosen.customer is not None and chosen.integration is not None:
        problem = _unusable(chosen.customer, chosen.integration)
    if problem is not None:
        return _workbench(
            runtime, signed, chosen, query=q, form=form, problem=problem, status_code=422
        )
    assert chosen.customer is not None and chosen.integration is not None
    today = account_today(clock.now(), chosen.integration.timezone)
    try:
        periods = resolve_periods(
            today, preset, start, end, comparison, comparison_start, comparison_end
        )
    except PeriodError as exc:
        return _workbench(
            runtime, signed, chosen, query=q, form=form, problem=str(exc), status_code=422
        )
    runs = await run_widgets(runtime, signed.merchant, chosen.integration, periods, picked)
    form.update(
        start=periods.start.isoformat(),
        end=periods.end.isoformat(),
        comparison_start=periods.comparison_start.isoformat() if periods.comparison_start else "",
        comparison_end=periods.comparison_end.isoformat() if periods.comparison_end else "",
    )
    log.info("playground_run", merchant=signed.merchant.uuid, widgets=len(runs))
    return _workbench(runtime, signed, chosen, query=q, form=form, runs=runs)


def _picked(chosen: Selection, keys: list[str]) -> tuple[list[WidgetChoice], str | None]:
    if chosen.integration is None:
        return [], "Choose a customer and one of its integrations first."
    available = choices_by_key(chosen.integration.slug)
    picked = [available[k] for k in dict.fromkeys(keys) if k in available]
    if not picked:
        return [], "Choose at least one widget."
    if len(picked) > MAX_RUN_WIDGETS:
        return [], f"Choose at most {MAX_RUN_WIDGETS} widgets at a time."
    return picked, None


def _unusable(customer: Customer, integration: CustomerIntegration) -> str | None:
    if integration.status != "active":
        label = STATUS_LABELS.get(integration.status, integration.status).lower()
        return f"This integration is {label}: the customer must reconnect it first."
    if not customer_in_good_standing(CustomerPrincipal.of(customer)):
        return "This customer's trial has ended: the API answers it 401 until it pays."
    return None
