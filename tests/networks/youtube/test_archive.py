"""Subscriber, view and video counts are "now" figures: the sync archives one per
Pacific day and the demo replays it, so a past period answers its last archived day."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.youtube import demo
from metrics_connect.networks.youtube.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
PACIFIC = ZoneInfo("America/Los_Angeles")


@pytest.fixture
async def replayed(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[httpx.AsyncClient, Any, SandboxNetwork]]:
    network = build_sandbox()
    network.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    settings = settings_factory(sqlite_url, youtube_api_base_url="http://youtube.test")
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["youtube"] = httpx.ASGITransport(app=network.app)
    try:
        async with serving(create_app(runtime=runtime)) as client:
            account = await connect_account(runtime, "youtube", network.demo_account)
            network.controls.calls.reset()
            await demo.prepare_demo(runtime, account.integration_uuid, network, days=40)
            yield client, account, network
    finally:
        clock.set_clock(None)


async def test_the_replay_archives_a_count_per_day_and_past_periods_answer_it(
    replayed: tuple[httpx.AsyncClient, Any, SandboxNetwork],
) -> None:
    client, account, network = replayed
    assert network.controls.calls.by_endpoint["channels.list"] == 41  # one run a day
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
                "id": "subs",
                "reference_key": "youtube:subscriber_count",
                "component": "number_v1",
                "metrics": ["subscriberCount"],
            },
        ],
    }
    response = await client.post("/metrics/get-data", json=body, headers=account.headers)
    assert response.status_code == 200, response.text
    subs = response.json()["subs"]
    data = network.emulator.data

    assert subs["values"] == data.channel_statistics(NOW)["subscriberCount"]
    # The comparison's last day: the count the sync saw that day.
    replay_step = NOW - timedelta(days=(end - comparison_end).days)
    assert replay_step.astimezone(PACIFIC).date() == comparison_end
    expected = data.channel_statistics(replay_step)["subscriberCount"]
    assert subs["comparison"]["values"] == expected
    assert expected < subs["values"]  # the channel grew meanwhile
