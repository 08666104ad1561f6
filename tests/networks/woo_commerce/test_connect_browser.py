"""A customer connects a WooCommerce store in a real browser (phone-sized, no JavaScript):
a store URL on a private address is refused on the form, the right one with its key
pair is checked live, picked, and answers a widget. Names resolve through a stub (the
SSRF guard's resolver); the store is the emulator, reached by the form's and the
connector's routed transports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from metrics_connect.api.app import create_app
from metrics_connect.connect.forms import form_transport_key
from metrics_connect.jobs import ssrf
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.oauth.serve import bind_loopback, serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.connect.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _tenant, merchant_page

pytestmark = pytest.mark.browser
ADDRESSES = {"shop.example.com": "93.184.215.14", "intranet.example.com": "10.0.0.9"}


async def resolver(host: str, port: int) -> list[str]:
    return [ADDRESSES[host]]


async def test_a_customer_connects_a_store_in_a_real_browser(
    store_sandbox: SandboxNetwork,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.async_api import async_playwright

    monkeypatch.setattr(ssrf, "system_resolver", resolver)
    app_sock = bind_loopback()
    app_base = f"http://127.0.0.1:{app_sock.getsockname()[1]}"
    merchant = serve_in_background(merchant_page())
    settings = settings_factory(sqlite_url, public_base_url=app_base)
    runtime = Runtime.from_settings(settings)
    for key in (form_transport_key("woo_commerce"), "woo_commerce"):
        runtime.upstream_transports[key] = httpx.ASGITransport(app=store_sandbox.app)
    served = serve_in_background(create_app(runtime=runtime), sock=app_sock, lifespan="on")
    key = store_sandbox.data.spec["keys"][0]
    try:
        headers = await _tenant(settings)
        async with httpx.AsyncClient(base_url=app_base, headers=headers, timeout=60) as api:
            r = await api.post(
                "/customer-integrations/session", json={"redirect_url": f"{merchant.base_url}/done"}
            )
            link = r.json()["integration_session"]["session_link"]
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
                )
                try:
                    context = await browser.new_context(
                        viewport={"width": 390, "height": 844}, java_script_enabled=False
                    )
                    page = await context.new_page()
                    page.set_default_timeout(20_000)
                    await page.goto(link)
                    await page.get_by_role("button", name="Connect WooCommerce").click()
                    await page.get_by_role("heading", name="Connect WooCommerce").wait_for()
                    assert await page.evaluate("document.documentElement.scrollWidth") <= 390

                    async def submit(store: str) -> None:
                        await page.get_by_label("Store URL (https://...)").fill(store)
                        await page.get_by_label("Consumer key (ck_...)").fill(key["consumer_key"])
                        await page.get_by_label("Consumer secret (cs_...)").fill(
                            key["consumer_secret"]
                        )
                        await page.get_by_role("button", name="Continue").click()

                    await submit("https://intranet.example.com")
                    alert = page.get_by_role("alert")
                    await alert.wait_for()
                    assert "intranet.example.com (10.0.0.9) is a private address" in (
                        await alert.inner_text()
                    )
                    assert key["consumer_secret"] not in await page.content()
                    await page.screenshot(path=ARTIFACTS / "woo-01-refused.png", full_page=True)

                    await submit("https://shop.example.com")
                    await page.wait_for_url("**/pick/*")
                    await page.get_by_text("Acme Coffee Store").first.wait_for()
                    await page.get_by_role("button", name="Connect this account").click()
                    await page.wait_for_url("**?notice=connected")
                    await page.screenshot(path=ARTIFACTS / "woo-02-connected.png", full_page=True)
                finally:
                    await browser.close()
            [integration] = (await api.get("/customer-integrations")).json()["data"]
            assert integration["integration"]["slug"] == "woo_commerce"
            assert integration["status"] == "active"
            widget: dict[str, Any] = {
                "id": "n",
                "reference_key": "woo_commerce:number_orders_total",
                "component": "number_v1",
                "metrics": ["orders_total"],
                "dimensions": ["orders"],
            }
            r = await api.post(
                "/metrics/get-data",
                json={
                    "customer_integration": integration["uuid"],
                    "start": "2026-11-01",
                    "end": "2026-11-19",
                    "metrics": [widget],
                },
            )
            assert r.status_code == 200, r.text
            assert r.json()["n"]["values"] > 0, r.json()
    finally:
        served.stop()
        merchant.stop()
