"""Every predefined YouTube widget through POST /metrics/get-data on an integration
connected to the emulator, and averages checked against the emulator's raw cells."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.youtube.emulator.app import YoutubeEmulator
from metrics_connect.networks.youtube.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving

REFERENCE = Path("/work/shared/reference/reportei-connect/youtube/metrics.json")
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles
END = date(2026, 11, 20)
START = END - timedelta(days=89)
COMPARISON_END = START - timedelta(days=1)
COMPARISON_START = COMPARISON_END - timedelta(days=89)
# "Now" counts (Data API statistics) exist for a past period only once archived.
SNAPSHOTS = {"youtube:view_count", "youtube:subscriber_count", "youtube:video_count"}


def reference_widgets() -> list[dict[str, Any]]:
    if not REFERENCE.exists():
        pytest.skip("the shared reference payloads are not on this machine")
    widgets: list[dict[str, Any]] = json.loads(REFERENCE.read_text())["metrics"]
    return widgets


@dataclass
class Connected:
    client: httpx.AsyncClient
    headers: dict[str, str]
    integration_uuid: str
    emulator: YoutubeEmulator

    async def get_data(self, widgets: list[dict[str, Any]], comparison: bool = True) -> Any:
        body: dict[str, Any] = {
            "customer_integration": self.integration_uuid,
            "start": START.isoformat(),
            "end": END.isoformat(),
            "metrics": widgets,
        }
        if comparison:
            body["comparison_start"] = COMPARISON_START.isoformat()
            body["comparison_end"] = COMPARISON_END.isoformat()
        response = await self.client.post("/metrics/get-data", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def network() -> SandboxNetwork:
    return build_sandbox()


@pytest.fixture
def frozen(network: SandboxNetwork) -> Iterator[None]:
    network.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture
async def youtube(
    network: SandboxNetwork,
    frozen: None,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, youtube_api_base_url="http://youtube.test")
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["youtube"] = httpx.ASGITransport(app=network.app)
    app = create_app(runtime=runtime)
    async with serving(app) as client:
        account = await connect_account(runtime, "youtube", network.demo_account)
        yield Connected(
            client,
            account.headers,
            account.integration_uuid,
            network.emulator,  # type: ignore[attr-defined]
        )


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    for item in reference_widgets():
        if item["reference_key"] == reference_key:
            return {"id": reference_key, **item, **overrides}
    raise KeyError(reference_key)


async def test_every_predefined_widget_answers_without_error(youtube: Connected) -> None:
    widgets = [{"id": f"w{i}", **w} for i, w in enumerate(reference_widgets())]
    assert len(widgets) == 29
    result = await youtube.get_data(widgets)
    errors = {
        w["reference_key"]: result[w["id"]]["error"] for w in widgets if "error" in result[w["id"]]
    }
    assert errors == {}
    for w in widgets:
        body = result[w["id"]]
        if w["component"] == "number_v1":
            assert body["values"] is not None, w["reference_key"]
            if w["reference_key"] not in SNAPSHOTS:
                assert body["comparison"]["values"] is not None, w["reference_key"]
        else:
            assert body["values"], w["reference_key"]
            assert "comparison" in body, w["reference_key"]
