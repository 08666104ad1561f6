"""The Page's fan and follower counts are "now" figures: the sync archives one per Pacific
day and the demo replays it, so a past period answers its last archived day. And the
connect page's picker: the Pages of the login that it may analyze."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.facebook.accounts import list_accounts
from metrics_connect.networks.facebook.emulator.network import PageSandboxNetwork, build_sandbox
from metrics_connect.networks.facebook.sync import demo
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.accounts import (
    DEMO_ACCESS_TOKEN,
    FACEBOOK_PAGE_ID,
    FACEBOOK_PAGE_NAME,
)
from metrics_connect.sandbox.oauth import build_provider_emulator
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
PACIFIC = ZoneInfo("America/Los_Angeles")
DAYS = 40


@pytest.fixture
async def replayed(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[httpx.AsyncClient, Any, PageSandboxNetwork]]:
    network = build_sandbox()
    network.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    settings = settings_factory(sqlite_url, facebook_api_base_url="http://pages.test")
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["facebook"] = httpx.ASGITransport(app=network.app)
    try:
        async with serving(create_app(runtime=runtime)) as client:
            account = await connect_account(
                runtime,
                "facebook",
                network.demo_account,
                connected_at=NOW - timedelta(days=DAYS),
            )
            network.controls.calls.reset()
            await demo.prepare_demo(runtime, account.integration_uuid, network)
            yield client, account, network
    finally:
        clock.set_clock(None)


async def test_the_replay_archives_a_count_per_day_and_past_periods_answer_it(
    replayed: tuple[httpx.AsyncClient, Any, PageSandboxNetwork],
) -> None:
    client, account, network = replayed
    assert network.controls.calls.by_endpoint["page"] == DAYS + 1  # one run a day
    assert network.controls.clock.now() == NOW  # the sandbox clock is given back
    end = NOW.astimezone(PACIFIC).date()
    start = end - timedelta(days=9)
    comparison_end = start - timedelta(days=1)
    body = {
        "customer_integration": account.integration_uuid,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "comparison_start": (comparison_end - timedelta(days=9)).isoformat(),
        "comparison_end": comparison_end.isoformat(),
        "metrics": [
            {
                "id": "likes",
                "reference_key": "fb:likes",
                "component": "number_v1",
                "metrics": ["page_fans"],
            },
        ],
    }
    response = await client.post("/metrics/get-data", json=body, headers=account.headers)
    assert response.status_code == 200, response.text
    likes = response.json()["likes"]
    data = network.data
    assert likes["values"] == data.likes(end)
    assert likes["comparison"]["values"] == data.likes(comparison_end)
    assert likes["comparison"]["values"] < likes["values"]  # the Page grew meanwhile


async def test_the_picker_lists_the_pages_the_login_may_analyze() -> None:
    login = build_provider_emulator("facebook_login")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=login.app)) as http:
        found = await list_accounts(http, "http://graph.test", "v27.0", DEMO_ACCESS_TOKEN)
    assert [(c.external_id, c.name, c.timezone) for c in found] == [
        (FACEBOOK_PAGE_ID, FACEBOOK_PAGE_NAME, "America/Los_Angeles")
    ]
    assert found[0].extra == {}  # no Page token in the connect session's account list


async def test_pages_without_the_analyze_task_are_left_out() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {DEMO_ACCESS_TOKEN}"
        pages = [
            {"id": "1", "name": "Analyzed", "category": "Cafe", "tasks": ["ANALYZE", "MANAGE"]},
            {"id": "2", "name": "Moderated", "tasks": ["MODERATE"]},
        ]
        return httpx.Response(200, json={"data": pages})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        found = await list_accounts(http, "http://graph.test", "v27.0", DEMO_ACCESS_TOKEN)
    assert [(c.external_id, c.detail) for c in found] == [("1", "Page · Cafe")]
