"""A store that answers slowly or with HTML fails the widget that asked, saying which:
through POST /metrics/get-data on an integration whose store misbehaves."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.woo_commerce.conftest import connected, woo_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")
WIDGET = {
    "id": "n",
    "reference_key": "woo_commerce:number_orders_total",
    "component": "number_v1",
    "metrics": ["orders_total"],
    "dimensions": ["orders"],
}


async def test_a_store_answering_html_fails_the_widget_saying_so(
    store_sandbox: SandboxNetwork, sqlite_template: Path, tmp_path: Path
) -> None:
    async def login_wall(request: Request) -> Response:
        return HTMLResponse("<html><body><form id='loginform'></form></body></html>")

    settings = woo_settings(tmp_path, sqlite_template)
    app = Starlette(routes=[Route("/{path:path}", login_wall)])
    async with connected(store_sandbox, settings, store=app) as woo:
        result = await woo.get_data([WIDGET], comparison=False)
    error = result["n"]["error"]
    assert error["code"] == "upstream_error"
    assert "answered wp-json/wc/v3/orders with text/html (HTTP 200)" in error["message"]


async def test_a_slow_store_fails_the_widget_with_a_timeout(
    store_sandbox: SandboxNetwork, sqlite_template: Path, tmp_path: Path
) -> None:
    store_sandbox.controls.switches.latency_seconds = 1.0
    served = serve_in_background(store_sandbox.app)  # a socket: the timeout is real
    try:
        settings = woo_settings(
            tmp_path,
            sqlite_template,
            woo_commerce_api_base_url=served.base_url,
            upstream_timeout_seconds=0.1,
            upstream_retry_budget_seconds=0.3,
        )
        async with connected(store_sandbox, settings, routed=False) as woo:
            result = await woo.get_data([WIDGET], comparison=False)
    finally:
        store_sandbox.controls.switches.latency_seconds = 0.0
        served.stop()
    error = result["n"]["error"]
    assert error["code"] == "upstream_error"
    assert "WooCommerce store" in error["message"] and "timeout" in error["message"]
