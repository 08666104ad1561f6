"""Widgets answered from the archive the sync filled, end to end through the API, each
checked against a reference computed here from the emulator's raw truth."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.instagram_business.emulator.model import MediaItem
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from metrics_connect.networks.instagram_business.sync.demo import prepare_demo
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from metrics_connect.sync.service import load_integration
from tests.conftest import connect_account

from .conftest import BASE_URL, NOW

CONNECTED_AT = NOW - timedelta(days=15)
TOKEN = "sandbox-e2e-token"


@dataclass
class Service:
    client: httpx.AsyncClient
    runtime: Runtime
    network: InstagramSandboxNetwork
    headers: dict[str, str]
    integration_uuid: str

    async def widget(self, start: date, end: date, widget: dict[str, Any]) -> Any:
        body = {
            "customer_integration": self.integration_uuid,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "metrics": [{"id": "w", **widget}],
        }
        response = await self.client.post("/metrics/get-data", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()["w"]


@pytest.fixture
def settings(sqlite_url: str, settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(sqlite_url, instagram_api_base_url=BASE_URL)


@pytest.fixture
def service_clock(network: InstagramSandboxNetwork) -> Iterator[None]:
    clock.set_clock(lambda: network.controls.clock.now())
    yield
    clock.set_clock(None)


@pytest.fixture
async def served(
    runtime: Runtime, network: InstagramSandboxNetwork, service_clock: None
) -> AsyncIterator[Service]:
    account = await connect_account(
        runtime,
        "instagram_business",
        network.demo_account,
        credentials={"access_token": TOKEN},
        connected_at=CONNECTED_AT,
    )
    headers = account.headers
    await prepare_demo(runtime, account.integration_uuid, network)
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Service(client, runtime, network, headers, account.integration_uuid)


def archived_values(story: MediaItem, replay_end: datetime = NOW) -> dict[str, int]:
    """What the archive must hold: the final insights of a story that expired (the
    emulator's stories settle hours before they expire, and the sync captures them in
    their last hours), the values at the end of the replay for one still live."""
    assert story.expires_at is not None
    return story.final if story.expires_at <= replay_end else story.insights_at(replay_end)


async def test_story_replies_are_the_sum_over_archived_stories(served: Service) -> None:
    truth = served.network.sandbox
    connected_day = truth.local_day(CONNECTED_AT)
    # a period that starts before the connection: stories gone by then do not count
    start, end = connected_day - timedelta(days=4), truth.today() - timedelta(days=3)
    posted = truth.stories_posted(truth.day_start(start), truth.day_end(end))
    counted = [s for s in posted if s.expires_at is not None and s.expires_at > CONNECTED_AT]
    assert len(posted) > len(counted) > 20
    expected = sum(archived_values(s)["replies"] for s in counted)
    answer = await served.widget(
        start,
        end,
        {
            "reference_key": "ig:replies",
            "component": "number_v1",
            "metrics": ["replies"],
            "dimensions": ["stories"],
        },
    )
    assert answer["values"] == expected
    count = await served.widget(
        start,
        end,
        {
            "reference_key": "ig:stories_count",
            "component": "number_v1",
            "metrics": ["count"],
            "dimensions": ["stories"],
        },
    )
    assert count["values"] == len(counted)


async def test_followers_by_gender_equal_the_latest_snapshot(served: Service) -> None:
    truth = served.network.sandbox
    end = truth.today() - timedelta(days=2)
    start = end - timedelta(days=10)
    answer = await served.widget(
        start,
        end,
        {
            "reference_key": "ig:followers_gender",
            "component": "chart_v1",
            "metrics": ["followers"],
            "dimensions": ["gender"],
        },
    )
    expected = truth.demographics("gender", truth.day_start(end) + timedelta(hours=12))
    got = dict(zip(answer["labels"], answer["values"][0]["data"], strict=True))
    labels = {"F": "Female", "M": "Male", "U": "Unknown"}
    assert {k: got.get(labels[k], got.get(k)) for k in expected} == expected


async def test_period_reach_equals_the_network_figure(served: Service) -> None:
    truth = served.network.sandbox
    end = truth.today() - timedelta(days=1)
    start = end - timedelta(days=13)
    answer = await served.widget(
        start,
        end,
        {"reference_key": "ig:reach", "component": "number_v1", "metrics": ["reach"]},
    )
    assert answer["values"] == truth.period_total("reach", start, end)


async def test_expired_token_mid_request_flips_the_integration(served: Service) -> None:
    truth = served.network.sandbox
    served.network.controls.switches.expired_tokens.add(TOKEN)
    end = truth.today() - timedelta(days=1)
    answer = await served.widget(
        end - timedelta(days=6),
        end,
        {"reference_key": "ig:reach", "component": "number_v1", "metrics": ["reach"]},
    )
    assert answer["error"]["code"] == "integration_expired"
    integration = await load_integration(served.runtime, served.integration_uuid)
    assert integration is not None and integration.status == "expired"
