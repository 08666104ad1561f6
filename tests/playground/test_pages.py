"""The playground's routes without a browser: sign-in, CSRF, tenancy, numbers."""

from __future__ import annotations

import json
import re
import shlex
from datetime import timedelta
from html import unescape
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.accounts import service
from metrics_connect.accounts.models import Customer, Merchant
from metrics_connect.engine.days import account_today
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from metrics_connect.playground.session import sign_in_link
from metrics_connect.runtime import Runtime
from tests.conftest import ConnectedAccount
from tests.playground.conftest import hidden, merchant_token, sign_in


async def customer_uuid(runtime: Runtime, account: ConnectedAccount) -> str:
    async with runtime.db.session() as db:
        customer = await db.get(Customer, account.customer_id)
        assert customer is not None
        return customer.uuid


async def other_merchant(runtime: Runtime) -> tuple[str, str]:
    """Another merchant with a customer of its own: (token, customer uuid)."""
    async with runtime.db.session() as db:
        m = await service.create_merchant(db, runtime.vault, runtime.settings, "Rival Agency")
        c = await service.create_customer(db, runtime.settings, m.record, "Rival Bakery")
        await db.commit()
        return m.token, c.record.uuid


def run_form(
    csrf: str, customer: str, integration: str, widgets: list[str], **extra: str
) -> dict[str, Any]:
    return {
        "csrf_token": csrf,
        "customer": customer,
        "integration": integration,
        "widgets": widgets,
        "preset": "last_7_days",
        "comparison": "previous_period",
        **extra,
    }


async def test_signed_out_the_playground_is_a_sign_in_page_under_the_strict_csp(
    pg_client: httpx.AsyncClient, account: ConnectedAccount
) -> None:
    r = await pg_client.get("/playground")
    assert r.status_code == 200
    assert "Sign in to the playground" in r.text
    assert "Coffee" not in r.text  # no customer of anyone
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "form-action 'self';" in csp and "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text and " style=" not in r.text
    cookie = r.headers["set-cookie"]
    assert "mc_playground_signin=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_sign_in_sets_an_http_only_same_site_session_cookie(
    pg_client: httpx.AsyncClient, account: ConnectedAccount
) -> None:
    page = await pg_client.get("/playground")
    r = await pg_client.post(
        "/playground/sign-in",
        data={"token": merchant_token(account), "csrf_token": hidden(page.text, "csrf_token")},
    )
    assert r.status_code == 303 and r.headers["location"] == "/playground"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("mc_playground="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/playground" in cookie
    assert merchant_token(account) not in cookie
    home = await pg_client.get("/playground")
    assert "Coffee" in home.text and "Agency" in home.text


async def test_a_wrong_token_is_refused_in_words(
    pg_client: httpx.AsyncClient, account: ConnectedAccount
) -> None:
    page = await pg_client.get("/playground")
    r = await pg_client.post(
        "/playground/sign-in",
        data={"token": "not-a-token", "csrf_token": hidden(page.text, "csrf_token")},
    )
    assert r.status_code == 401
    assert "does not belong to any merchant" in r.text
    assert "mc_playground=" not in r.headers.get("set-cookie", "")


@pytest.mark.parametrize("attack", ["no_token", "cross_site", "no_binding_cookie"])
async def test_sign_in_without_its_csrf_proof_is_refused(
    pg_client: httpx.AsyncClient, account: ConnectedAccount, attack: str
) -> None:
    page = await pg_client.get("/playground")
    data = {"token": merchant_token(account), "csrf_token": hidden(page.text, "csrf_token")}
    headers = {}
    if attack == "no_token":
        data.pop("csrf_token")
    elif attack == "cross_site":
        headers["Sec-Fetch-Site"] = "cross-site"
    else:
        pg_client.cookies.clear()
    r = await pg_client.post("/playground/sign-in", data=data, headers=headers)
    assert r.status_code == 403
    assert "Request refused" in r.text
    assert "mc_playground=" not in r.headers.get("set-cookie", "")


async def test_a_run_without_a_session_or_its_csrf_token_shows_no_data(
    pg_client: httpx.AsyncClient, pg_runtime: Runtime, account: ConnectedAccount
) -> None:
    customer = await customer_uuid(pg_runtime, account)
    form = run_form("x", customer, account.integration_uuid, ["ig:reach"])
    r = await pg_client.post("/playground/run", data=form)
    assert r.status_code == 401 and "Sign in first" in r.text

    signed = await sign_in(pg_client, merchant_token(account))
    r = await pg_client.post("/playground/run", data=form)
    assert r.status_code == 403 and 'class="figure"' not in r.text
    form["csrf_token"] = signed.csrf
    r = await pg_client.post("/playground/run", data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and 'class="figure"' not in r.text


async def test_another_merchants_customer_and_integration_are_not_found(
    pg_client: httpx.AsyncClient, pg_runtime: Runtime, account: ConnectedAccount
) -> None:
    rival_token, rival_customer = await other_merchant(pg_runtime)
    customer = await customer_uuid(pg_runtime, account)
    signed = await sign_in(pg_client, rival_token)
    home = await pg_client.get("/playground")
    assert "Rival Bakery" in home.text and "Coffee" not in home.text

    r = await pg_client.get("/playground", params={"customer": customer})
    assert r.status_code == 404 and "Coffee" not in r.text
    r = await pg_client.get(
        "/playground",
        params={"customer": rival_customer, "integration": account.integration_uuid},
    )
    assert r.status_code == 404 and "@" not in r.text
    r = await pg_client.post(
        "/playground/run",
        data=run_form(signed.csrf, customer, account.integration_uuid, ["ig:reach"]),
    )
    assert r.status_code == 404 and 'class="figure"' not in r.text
    r = await pg_client.post(
        "/playground/run",
        data=run_form(signed.csrf, rival_customer, account.integration_uuid, ["ig:reach"]),
    )
    assert r.status_code == 404 and 'class="figure"' not in r.text


def curl_of(html: str, widget_id: str) -> list[str]:
    """The words of the curl command shown beside a widget, as a shell reads them."""
    match = re.search(rf'id="curl-{widget_id}"><code>(.*?)</code>', html, re.S)
    assert match, "no curl on the page"
    return shlex.split(unescape(match.group(1)).replace("\\\n", " "))


def data_values(html: str, css_class: str) -> list[Any]:
    found = re.findall(rf'class="{css_class}[^"]*"[^>]*?data-value=\'([^\']*)\'', html)
    return [json.loads(unescape(v)) for v in found]


async def test_a_number_widget_shows_the_apis_answer_its_curl_and_plan(
    pg_client: httpx.AsyncClient,
    pg_runtime: Runtime,
    account: ConnectedAccount,
    ig_network: InstagramSandboxNetwork,
) -> None:
    customer = await customer_uuid(pg_runtime, account)
    signed = await sign_in(pg_client, merchant_token(account))
    page = await pg_client.get(
        "/playground", params={"customer": customer, "integration": account.integration_uuid}
    )
    assert 'value="ig:reach"' in page.text
    r = await pg_client.post(
        "/playground/run",
        data=run_form(signed.csrf, customer, account.integration_uuid, ["ig:reach"]),
    )
    assert r.status_code == 200, r.text

    today = account_today(clock.now(), ig_network.demo_account.timezone)
    body = {
        "customer_integration": account.integration_uuid,
        "start": str(today - timedelta(days=7)),
        "end": str(today - timedelta(days=1)),
        "comparison_start": str(today - timedelta(days=14)),
        "comparison_end": str(today - timedelta(days=8)),
        "metrics": [
            {
                "id": "ig_reach",
                "reference_key": "ig:reach",
                "component": "number_v1",
                "metrics": ["reach"],
                "dimensions": [],
            }
        ],
    }
    api = await pg_client.post("/metrics/get-data", json=body, headers=account.headers)
    assert api.status_code == 200, api.text
    widget = api.json()["ig_reach"]
    assert isinstance(widget["values"], int) and widget["values"] > 0
    assert data_values(r.text, "figure") == [widget["values"]]
    assert f"data-comparison='{widget['comparison']['values']}'" in r.text
    # The curl is the request whose answer this is (tokens left to the reader's shell).
    assert "$MERCHANT_TOKEN" in r.text and merchant_token(account) not in r.text
    curl = curl_of(r.text, "ig_reach")
    assert curl[:4] == ["curl", "-s", "-X", "POST"]
    assert curl[4] == "http://testserver/metrics/get-data"
    assert json.loads(curl[curl.index("-d") + 1]) == body
    assert "upstream call" in r.text or "answered from the store" in r.text
    assert "The account&#39;s day is" in r.text


async def test_a_widget_error_is_shown_in_words(
    pg_client: httpx.AsyncClient, pg_runtime: Runtime, account: ConnectedAccount
) -> None:
    customer = await customer_uuid(pg_runtime, account)
    signed = await sign_in(pg_client, merchant_token(account))
    r = await pg_client.post(
        "/playground/run",
        data=run_form(
            signed.csrf,
            customer,
            account.integration_uuid,
            ["ig:stories_reach"],
            preset="custom",
            start="2020-01-01",
            end="2020-01-31",
            comparison="none",
        ),
    )
    assert r.status_code == 200
    assert "widget-error" in r.text
    assert "never archived" in r.text or "could not be answered" in r.text


async def test_bad_choices_are_explained(
    pg_client: httpx.AsyncClient, pg_runtime: Runtime, account: ConnectedAccount
) -> None:
    customer = await customer_uuid(pg_runtime, account)
    signed = await sign_in(pg_client, merchant_token(account))
    base = (signed.csrf, customer, account.integration_uuid)
    r = await pg_client.post("/playground/run", data=run_form(*base, []))
    assert r.status_code == 422 and "Choose at least one widget" in r.text
    r = await pg_client.post(
        "/playground/run",
        data=run_form(*base, ["ig:reach"], preset="custom", start="2024-02-01", end="2024-01-01"),
    )
    assert r.status_code == 422 and "The end comes before the start" in r.text
    r = await pg_client.post(
        "/playground/run",
        data=run_form(*base, ["ig:reach"], preset="custom", start="2020-01-01", end="2026-01-01"),
    )
    assert r.status_code == 200 and "may span at most" in r.text


async def test_a_sign_in_link_works_once_and_carries_no_token(
    pg_client: httpx.AsyncClient, pg_runtime: Runtime, account: ConnectedAccount
) -> None:
    async with pg_runtime.db.session() as db:
        customer = await db.get(Customer, account.customer_id)
        assert customer is not None
        merchant = await db.get(Merchant, customer.merchant_id)
        assert merchant is not None
    link = sign_in_link(pg_runtime.settings, merchant.uuid, merchant.token_hash)
    assert merchant_token(account) not in link
    path = link.removeprefix(pg_runtime.settings.public_base_url)
    page = await pg_client.get(path)
    assert page.status_code == 200 and "Continue as Agency" in page.text
    form = {"ticket": hidden(page.text, "ticket"), "csrf_token": hidden(page.text, "csrf_token")}
    r = await pg_client.post("/playground/sign-in/link", data=form)
    assert r.status_code == 303
    assert "Coffee" in (await pg_client.get("/playground")).text

    # Replayed from a fresh browser (its own sign-in cookie and CSRF token): spent.
    pg_client.cookies.clear()
    fresh = await pg_client.get("/playground")
    form["csrf_token"] = hidden(fresh.text, "csrf_token")
    again = await pg_client.post("/playground/sign-in/link", data=form)
    assert again.status_code == 401 and "cannot be used" in again.text
    assert (await pg_client.get(path)).status_code == 401
    forged = await pg_client.get(path[:-4] + "0000")
    assert forged.status_code == 401


async def test_sign_out_ends_the_session_and_a_new_token_ends_every_session(
    pg_client: httpx.AsyncClient, pg_runtime: Runtime, account: ConnectedAccount
) -> None:
    signed = await sign_in(pg_client, merchant_token(account))
    cookie = pg_client.cookies.get("mc_playground")
    r = await pg_client.post("/playground/sign-out", data={"csrf_token": signed.csrf})
    assert r.status_code == 303
    assert "Sign in to the playground" in (await pg_client.get("/playground")).text

    # The old cookie still verifies until the merchant's token changes.
    pg_client.cookies.set("mc_playground", cookie or "", path="/playground")
    assert "Coffee" in (await pg_client.get("/playground")).text
    async with pg_runtime.db.session() as db:
        customer = await db.get(Customer, account.customer_id)
        assert customer is not None
        merchant = await db.get(Merchant, customer.merchant_id)
        assert merchant is not None
        merchant.token_hash = "0" * 64
        await db.commit()
    assert "Sign in to the playground" in (await pg_client.get("/playground")).text


async def test_static_files_are_served_with_the_strict_headers(
    pg_client: httpx.AsyncClient,
) -> None:
    for path in ("playground.js", "playground.css", "vendor/chart.umd.min.js"):
        r = await pg_client.get(f"/playground/static/{path}")
        assert r.status_code == 200, path
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
    chart = await pg_client.get("/playground/static/vendor/chart.umd.min.js")
    assert "Chart.js v4.6.1" in chart.text[:200]


async def test_runs_count_against_the_merchants_rate_limit(
    pg_client: httpx.AsyncClient, pg_runtime: Runtime, account: ConnectedAccount
) -> None:
    customer = await customer_uuid(pg_runtime, account)
    async with pg_runtime.db.session() as db:
        row = await db.get(Customer, account.customer_id)
        assert row is not None
        merchant = await db.get(Merchant, row.merchant_id)
        assert merchant is not None
        merchant.rate_limit_per_minute = 1
        await db.commit()
    signed = await sign_in(pg_client, merchant_token(account))
    r = await pg_client.post(
        "/playground/run",
        data=run_form(
            signed.csrf, customer, account.integration_uuid, ["ig:reach", "ig:profile_views"]
        ),
    )
    assert r.status_code == 200
    assert len(data_values(r.text, "figure")) == 1
    assert "Your rate limit is reached; try again in" in r.text
