"""End to end in headless Chromium: a merchant runs widgets of its customer's Instagram.

The API and the Instagram Graph emulator listen on 127.0.0.1; the customer's account
is connected to the emulator the way the other end-to-end tests connect it
(`tests.conftest.connect_account`). A phone-sized window (375 px) signs in, picks the
integration, runs a number, a chart and a table widget with a comparison, and the
figures on the page are checked against `POST /metrics/get-data`. Signed out, or
signed in as another merchant, nothing of the customer shows. Screenshots go to
test-artifacts/playground/.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.accounts import service
from metrics_connect.accounts.models import Customer
from metrics_connect.api.app import create_app
from metrics_connect.engine.days import account_today
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.oauth import RunningServer, serve_in_background
from metrics_connect.sandbox.oauth.serve import bind_loopback
from metrics_connect.settings import Settings
from tests.conftest import ConnectedAccount, connect_account

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "playground"
PHONE = {"width": 375, "height": 812}
NUMBER, CHART, TABLE = "ig:reach", "ig:reach_over_time", "ig:clicks_breakdown"

if not CHROMIUM.exists():
    pytest.skip(
        "needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="needs the playwright package (dev extra)")


@dataclass
class Stack:
    app_base: str
    settings: Settings
    servers: list[RunningServer]


@pytest.fixture
def stack(sqlite_url: str, settings_factory: Callable[..., Settings]) -> Iterator[Stack]:
    servers: list[RunningServer] = []
    try:
        app_sock = bind_loopback()
        app_base = f"http://127.0.0.1:{app_sock.getsockname()[1]}"
        instagram = build_sandbox()
        ig_server = serve_in_background(instagram.app)
        servers.append(ig_server)
        settings = settings_factory(
            sqlite_url, public_base_url=app_base, instagram_api_base_url=ig_server.base_url
        )
        app = create_app(runtime=Runtime.from_settings(settings))
        servers.append(serve_in_background(app, sock=app_sock, lifespan="on"))
        yield Stack(app_base, settings, servers)
    finally:
        for server in reversed(servers):
            server.stop()


@dataclass
class Seeded:
    account: ConnectedAccount
    customer_uuid: str
    rival_token: str


async def _seed(settings: Settings) -> Seeded:
    rt = Runtime.from_settings(settings)
    try:
        account = await connect_account(rt, "instagram_business", build_sandbox().demo_account)
        async with rt.db.session() as db:
            customer = await db.get(Customer, account.customer_id)
            assert customer is not None
            rival = await service.create_merchant(db, rt.vault, settings, "Rival Agency")
            await service.create_customer(db, settings, rival.record, "Rival Bakery")
            await db.commit()
            return Seeded(account, customer.uuid, rival.token)
    finally:
        await rt.db.dispose()


def _curl_body(text: str) -> dict[str, Any]:
    words = shlex.split(text.replace("\\\n", " "))
    body: dict[str, Any] = json.loads(words[words.index("-d") + 1])
    return body


async def _no_wider_than_the_phone(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"


async def _sign_in(page: Any, base: str, token: str) -> None:
    await page.goto(f"{base}/playground")
    await page.get_by_role("heading", name="Sign in to the playground").wait_for()
    await page.get_by_label("Merchant token").focus()
    await page.keyboard.type(token)
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Playground", exact=True).wait_for()


async def test_a_merchant_runs_widgets_of_the_instagram_integration(stack: Stack) -> None:
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    seeded = await _seed(stack.settings)
    token = seeded.account.headers["Authorization"].removeprefix("Bearer ")
    workbench = (
        f"{stack.app_base}/playground?customer={seeded.customer_uuid}"
        f"&integration={seeded.account.integration_uuid}"
    )
    console: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            # Without JavaScript: the sign-in and its error page work.
            plain = await browser.new_context(viewport=PHONE, java_script_enabled=False)
            page = await plain.new_page()
            page.set_default_timeout(30_000)
            await page.goto(f"{stack.app_base}/playground")
            await page.get_by_label("Merchant token").fill("wrong-token")
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_text("does not belong to any merchant").wait_for()
            await page.screenshot(path=ARTIFACTS / "01-sign-in-refused-no-js.png", full_page=True)
            await _no_wider_than_the_phone(page)
            await _sign_in(page, stack.app_base, token)
            # Choosing and running work without it too (the chart would be its table).
            await page.goto(workbench)
            await page.locator(f'input[value="{NUMBER}"]').check()
            await page.get_by_role("button", name="Run widgets").click()
            await page.locator("#result-ig_reach .figure").wait_for()
            assert (
                json.loads(
                    await page.locator("#result-ig_reach .figure").get_attribute("data-value") or ""
                )
                > 0
            )
            await page.screenshot(path=ARTIFACTS / "01b-run-no-js.png", full_page=True)
            await plain.close()

            context = await browser.new_context(viewport=PHONE)
            page = await context.new_page()
            page.set_default_timeout(30_000)
            page.on("console", lambda message: console.append(message.text))
            await _sign_in(page, stack.app_base, token)
            await page.screenshot(path=ARTIFACTS / "02-signed-in.png", full_page=True)

            await page.get_by_label("Customer", exact=True).select_option(seeded.customer_uuid)
            await page.get_by_role("button", name="Open customer").click()
            await page.get_by_label("Integration", exact=True).select_option(
                seeded.account.integration_uuid
            )
            await page.get_by_role("button", name="Open integration").click()
            await page.get_by_role("heading", name="Widgets of Instagram Business").wait_for()

            # The search filters as one types, by label or reference key.
            search = page.get_by_label("Search by label or reference key")
            await search.fill("clicks_break")
            assert await page.locator(f'input[value="{TABLE}"]').is_visible()
            assert not await page.locator(f'input[value="{NUMBER}"]').is_visible()
            await search.fill("")
            # Predefined widgets come first.
            first = await page.locator("#widget-list input").first.get_attribute("value")
            assert first is not None and first.startswith("ig:")

            # By keyboard: focus each checkbox and tick it with the space bar.
            for key in (NUMBER, CHART, TABLE):
                await page.locator(f'input[value="{key}"]').focus()
                await page.keyboard.press("Space")
                assert await page.locator(f'input[value="{key}"]').is_checked()
            await page.get_by_label("Period", exact=True).select_option("last_30_days")
            await page.get_by_label("Compare with").select_option("previous_period")
            await page.screenshot(path=ARTIFACTS / "03-picked.png", full_page=True)
            await page.get_by_role("button", name="Run widgets").focus()
            await page.keyboard.press("Enter")
            await page.get_by_role("heading", name="Results").wait_for()
            await page.locator("canvas").first.wait_for()
            await page.wait_for_function(
                "() => window.Chart && Chart.getChart('chart-ig_reach_over_time')"
            )
            await page.screenshot(path=ARTIFACTS / "04-results.png", full_page=True)
            for name, key in (("number", NUMBER), ("chart", CHART), ("table", TABLE)):
                element = page.locator(f"#result-{key.replace(':', '_')}")
                await element.screenshot(path=ARTIFACTS / f"04-result-{name}.png")
            await _no_wider_than_the_phone(page)

            today = account_today(clock.now(), build_sandbox().demo_account.timezone)
            expected_period = {
                "start": str(today - timedelta(days=30)),
                "end": str(today - timedelta(days=1)),
                "comparison_start": str(today - timedelta(days=60)),
                "comparison_end": str(today - timedelta(days=31)),
            }
            answers: dict[str, Any] = {}
            async with httpx.AsyncClient(
                base_url=stack.app_base, headers=seeded.account.headers, timeout=60
            ) as api:
                for key in (NUMBER, CHART, TABLE):
                    widget_id = key.replace(":", "_")
                    body = _curl_body(await page.locator(f"#curl-{widget_id}").inner_text())
                    assert {k: body[k] for k in expected_period} == expected_period
                    assert body["metrics"][0]["reference_key"] == key
                    r = await api.post("/metrics/get-data", json=body)
                    assert r.status_code == 200, r.text
                    answers[key] = r.json()[widget_id]
                    assert "error" not in answers[key], answers[key]
                    shown = json.loads(await page.locator(f"#json-{widget_id}").inner_text())
                    assert shown == {widget_id: answers[key]}

            # number_v1: the figure, the comparison and its arrow.
            number = answers[NUMBER]
            result = page.locator("#result-ig_reach")
            figure = json.loads(await result.locator(".figure").get_attribute("data-value") or "")
            assert figure == number["values"]
            assert f"{number['values']:,}" in await result.locator(".figure").inner_text()
            delta = result.locator(".delta")
            assert (
                json.loads(await delta.get_attribute("data-comparison") or "")
                == (number["comparison"]["values"])
            )
            arrow = await delta.locator(".arrow").inner_text()
            change = number["comparison"]["absoluteDifference"]
            assert arrow == ("▲" if change > 0 else "▼" if change < 0 else "→")

            # chart_v1: a line chart, with the comparison series, of the API's data.
            chart = answers[CHART]
            drawn = await page.evaluate(
                """() => { const c = Chart.getChart('chart-ig_reach_over_time');
                           return {type: c.config.type, labels: c.data.labels,
                                   data: c.data.datasets.map(d => d.data)}; }"""
            )
            assert drawn["type"] == "line"
            assert drawn["labels"] == chart["labels"]
            assert drawn["data"] == [s["data"] for s in chart["values"]] + [
                s["data"] for s in chart["comparison"]["values"]
            ]

            # datatable_v1: rows and the Total row, then sorted by keyboard.
            table = answers[TABLE]
            grid = page.locator("#table-ig_clicks_breakdown")
            assert await grid.locator("thead th").all_inner_texts() == table["headers"]
            rows = await grid.evaluate(
                """t => Array.from(t.querySelectorAll('tbody tr, tfoot tr')).map(r =>
                       Array.from(r.cells).map(c => JSON.parse(c.dataset.value)))"""
            )
            assert rows == table["values"]
            assert rows[-1][0] == "Total"
            second = grid.locator("thead th").nth(1)
            await second.get_by_role("button").focus()
            await page.keyboard.press("Enter")
            assert await second.get_attribute("aria-sort") == "ascending"
            column = await grid.evaluate(
                "t => Array.from(t.tBodies[0].rows).map(r => JSON.parse(r.cells[1].dataset.value))"
            )
            numbers = [v for v in column if v is not None]
            assert numbers == sorted(numbers)
            await page.screenshot(path=ARTIFACTS / "05-table-sorted.png", full_page=True)

            # The plan in words beside each result.
            assert await page.locator("#result-ig_reach .plan li").count() >= 2

            # Signed out: the same address shows the sign-in page and no data.
            await page.get_by_role("button", name="Sign out").click()
            await page.get_by_role("heading", name="Sign in to the playground").wait_for()
            await page.goto(workbench)
            await page.get_by_role("heading", name="Sign in to the playground").wait_for()
            text = await page.locator("body").inner_text()
            assert "Coffee" not in text and "@" not in text
            await page.screenshot(path=ARTIFACTS / "06-signed-out.png", full_page=True)
            await context.close()

            # Another merchant's session: the customer is not found, nothing shows.
            rival = await browser.new_context(viewport=PHONE)
            page = await rival.new_page()
            page.set_default_timeout(30_000)
            await _sign_in(page, stack.app_base, seeded.rival_token)
            response = await page.goto(workbench)
            assert response is not None and response.status == 404
            await page.get_by_role("heading", name="Customer not found").wait_for()
            text = await page.locator("body").inner_text()
            assert "Coffee" not in text and "@" not in text
            assert not re.search(r"\d{3,}", text.replace(seeded.customer_uuid, ""))
            await page.screenshot(path=ARTIFACTS / "07-other-merchant.png", full_page=True)
            await rival.close()
        finally:
            await browser.close()

    # The strict CSP let everything through: no violation was reported.
    assert not [m for m in console if "Content Security Policy" in m], console
