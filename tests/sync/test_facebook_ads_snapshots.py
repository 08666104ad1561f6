"""Meta Ads' snapshot archive: the sync stores the ad account's money figures each run,
and the demo replays them day by day, so balance widgets answer for past periods."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.facebook_ads.emulator.entities import ACCOUNT
from metrics_connect.networks.facebook_ads.emulator.network import build_sandbox, emulator_of
from metrics_connect.networks.facebook_ads.sync.demo import prepare_demo, replay_instants
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from metrics_connect.sync.service import load_integration, run_sync
from tests.conftest import connect_account, serving

NOW = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
TODAY = date(2026, 1, 15)


@dataclass
class Ads:
    runtime: Runtime
    client: httpx.AsyncClient
    headers: dict[str, str]
    integration_uuid: str
    integration_id: int
    network: SandboxNetwork

    async def figure(self, metric: str, start: date, end: date) -> Any:
        widget = {"id": "w", "reference_key": "x", "component": "number_v1"}
        body = {"customer_integration": self.integration_uuid, "metrics": [widget]}
        body |= {"start": start.isoformat(), "end": end.isoformat()}
        widget["metrics"] = [metric]
        response = await self.client.post("/metrics/get-data", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()["w"]


def available_at_end_of(network: SandboxNetwork, day: date) -> float:
    """spend_cap - amount_spent - balance as the account stood at the end of `day`."""
    created = date.fromisoformat(ACCOUNT.created_time[:10])
    spent = emulator_of(network).data.period_totals(created, day)["spend"]
    return round((ACCOUNT.spend_cap_cents - spent - ACCOUNT.balance_cents) / 100, 2)


@pytest.fixture
def network() -> Iterator[SandboxNetwork]:
    net = build_sandbox()
    net.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    yield net
    clock.set_clock(None)


@pytest.fixture
async def ads(
    sqlite_url: str, settings_factory: Callable[..., Settings], network: SandboxNetwork
) -> AsyncIterator[Ads]:
    settings = settings_factory(sqlite_url, facebook_ads_api_base_url="http://graph.test")
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["facebook_ads"] = httpx.ASGITransport(app=network.app)
    async with serving(create_app(runtime=runtime)) as client:
        account = await connect_account(
            runtime, "facebook_ads", network.demo_account, connected_at=NOW - timedelta(days=40)
        )
        yield Ads(
            runtime,
            client,
            account.headers,
            account.integration_uuid,
            account.integration_id,
            network,
        )


def test_replay_steps_are_the_end_of_each_account_day_then_now() -> None:
    start = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
    instants = replay_instants(start, NOW, "America/Sao_Paulo")
    assert [i.isoformat() for i in instants] == [
        "2026-01-12T23:59:59-03:00",
        "2026-01-13T23:59:59-03:00",
        "2026-01-14T23:59:59-03:00",
        NOW.isoformat(),
    ]


async def test_a_past_balance_answers_from_the_replayed_archive(ads: Ads) -> None:
    end = TODAY - timedelta(days=10)
    start = end - timedelta(days=9)
    before = await ads.figure("available_balance", start, end)
    assert before["error"]["code"] == "data_not_available"

    await prepare_demo(ads.runtime, ads.integration_uuid, ads.network)

    assert ads.network.controls.clock.now() == NOW  # the sandbox's clock is given back
    past = await ads.figure("available_balance", start, end)
    assert past["values"] == pytest.approx(available_at_end_of(ads.network, end), abs=0.01)
    due = await ads.figure("balance", start, end)
    assert due["values"] == ACCOUNT.balance_cents / 100
    # Every day since the connection has its snapshot: any period answers.
    first = (NOW - timedelta(days=40)).date()
    for day in (first, first + timedelta(days=17), TODAY - timedelta(days=1)):
        one = await ads.figure("available_balance", day, day)
        assert one["values"] == pytest.approx(available_at_end_of(ads.network, day), abs=0.01)


async def test_the_scheduled_sync_archives_todays_snapshot(ads: Ads) -> None:
    integration = await load_integration(ads.runtime, ads.integration_uuid)
    assert integration is not None
    outcome = await run_sync(ads.runtime, integration, NOW)
    assert outcome.ok and outcome.stored == 1
    calls = ads.network.controls.calls.total
    today = await ads.figure("amount_spent", TODAY, TODAY)
    assert today["values"] > 0
    assert ads.network.controls.calls.total == calls  # answered from what the sync stored
