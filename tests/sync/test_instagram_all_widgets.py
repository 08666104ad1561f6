"""Every predefined Instagram widget of the reference dashboards answers, without an
error, over the last 90 days with a comparison period, on an integration whose archive
the sync filled (as the demo does)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from metrics_connect.networks.instagram_business.sync.demo import prepare_demo
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import connect_account

from .conftest import BASE_URL, NOW

REFERENCE = Path("/work/shared/reference/reportei-connect/instagram_business/metrics.json")
REFERENCE_LOCAL = (
    Path(__file__).resolve().parents[2]
    / "reference"
    / "reportei-connect"
    / "instagram_business"
    / "metrics.json"
)


def reference_widgets() -> list[dict[str, Any]]:
    path = REFERENCE if REFERENCE.exists() else REFERENCE_LOCAL
    if not path.exists():
        pytest.skip("the reference dashboards are not available here")
    widgets: list[dict[str, Any]] = json.loads(path.read_text())["metrics"]
    return widgets


@pytest.fixture
def settings(sqlite_url: str, settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(sqlite_url, instagram_api_base_url=BASE_URL)


@pytest.mark.slow
async def test_every_reference_widget_answers_over_90_days_with_comparison(
    runtime: Runtime, network: InstagramSandboxNetwork
) -> None:
    widgets = reference_widgets()
    account = await connect_account(
        runtime,
        "instagram_business",
        network.demo_account,
        connected_at=NOW - timedelta(days=185),
    )
    headers = account.headers
    await prepare_demo(runtime, account.integration_uuid, network)

    truth = network.sandbox
    end = truth.today()
    start = end - timedelta(days=89)
    body = {
        "customer_integration": account.integration_uuid,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "comparison_start": (start - timedelta(days=90)).isoformat(),
        "comparison_end": (start - timedelta(days=1)).isoformat(),
        "metrics": [{"id": f"w{i}", **w} for i, w in enumerate(widgets)],
    }
    # And a period the API no longer serves in part (beyond its 30- and 90-day windows):
    # the archive answers the daily figures.
    old_end = end - timedelta(days=61)
    old_body = {
        **body,
        "start": (old_end - timedelta(days=89)).isoformat(),
        "end": old_end.isoformat(),
    }
    del old_body["comparison_start"], old_body["comparison_end"]
    clock.set_clock(network.controls.clock.now)
    try:
        app = create_app(runtime=runtime)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post("/metrics/get-data", json=body, headers=headers)
                old = await client.post("/metrics/get-data", json=old_body, headers=headers)
    finally:
        clock.set_clock(None)
    assert old.status_code == 200, old.text
    old_failed = {
        widgets[int(k[1:])]["reference_key"]: v["error"]
        for k, v in old.json().items()
        if isinstance(v, dict) and "error" in v
    }
    # Instagram keeps account metrics 90 days: a period figure (reach by follower, a
    # breakdown's total) of an older period cannot be had; those widgets say so precisely,
    # the others answer from the archive.
    assert set(old_failed) == {
        "ig:clicks_breakdown",
        "ig:follower_reach",
        "ig:non_follower_reach",
        "ig:organic_reach",
        "ig:paid_reach",
        "ig:profile_views",
        "ig:reach",
        "ig:total_clicks",
        "ig:total_reach",
    }
    assert all(
        e == {"code": "data_not_available", "message": "No account_period data for this period."}
        for e in old_failed.values()
    )
    assert response.status_code == 200, response.text
    answers = response.json()
    failed = {
        widgets[int(k[1:])]["reference_key"]: v["error"]
        for k, v in answers.items()
        if isinstance(v, dict) and "error" in v
    }
    assert failed == {}
    assert len(answers) == len(widgets)
    replies = answers[f"w{[w['reference_key'] for w in widgets].index('ig:replies')}"]
    assert isinstance(replies["values"], int) and replies["values"] > 0
    assert isinstance(replies["comparison"]["values"], int)
